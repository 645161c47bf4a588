/**
 * The one error type a store throws. The protocol layers map `kind` to their own responses in one
 * place each (IMAP: src/imap/errors.ts; POP3: src/pop3/errors.ts), so a backend never needs to know
 * which protocol is asking.
 */
export type StoreErrorKind =
  | 'nonexistent' // no such mailbox or message
  | 'alreadyexists' // CREATE/RENAME target exists
  | 'noperm' // not allowed for this user
  | 'overquota' // quota would be exceeded
  | 'inuse' // locked by someone else (POP3 maildrop, exclusive operations)
  | 'cannot' // the operation can never succeed (e.g. delete INBOX, invalid name)
  | 'hasChildren' // delete of a \Noselect mailbox with children
  | 'limit' // a configured limit (mailbox count, name length...)
  | 'toobig' // the message is larger than the store accepts
  | 'unavailable' // temporary failure; retrying later may work
  | 'nospace' // the disk holding the store is full: temporary, until an operator frees space
  | 'damaged'; // stored data cannot be read back intact (a body file missing, cut short or altered; damaged database pages)

export interface StoreErrorOptions {
  /** The file the failure concerns, for logs (never shown to clients). */
  file?: string;
  cause?: unknown;
}

const KINDS: ReadonlySet<string> = new Set<StoreErrorKind>([
  'nonexistent', 'alreadyexists', 'noperm', 'overquota', 'inuse', 'cannot', 'hasChildren', 'limit', 'toobig',
  'unavailable', 'nospace', 'damaged',
]);
const BRAND = Symbol.for('postroom.StoreError');

/**
 * `err instanceof StoreError` holds for any error branded as one — by this class, by another copy
 * of the package (a store built against its own dependency), or by hand: an Error whose `name` is
 * "StoreError" and whose `kind` is one of the kinds above. The servers rely on it.
 */
export class StoreError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const v = value as { name?: unknown; kind?: unknown };
    return (value as Record<symbol, unknown>)[BRAND] === true || (value instanceof Error && v.name === 'StoreError' && typeof v.kind === 'string' && KINDS.has(v.kind));
  }
  readonly kind: StoreErrorKind;
  /** The file the failure concerns, for logs; the message clients see does not name it. */
  readonly file: string | undefined;
  constructor(kind: StoreErrorKind, message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    Object.defineProperty(this, BRAND, { value: true });
    this.kind = kind;
    this.file = options.file;
  }
}

/** True for a StoreError from any copy of the package (see the class). */
export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

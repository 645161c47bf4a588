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
  | 'unavailable'; // temporary failure; retrying later may work

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string) {
    super(message);
    this.name = 'StoreError';
    this.kind = kind;
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

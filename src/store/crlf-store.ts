/**
 * The protocol servers' view of a store with CRLF line ends guaranteed (src/store/line-ends.ts).
 *
 * On the way in, always: APPEND content gets CRLF line ends before the store sees it (delivery and
 * import already hand over CRLF). On the way out, only for a store that does not declare
 * `lineEnds: 'crlf'` — a framework store that serves messages it got from elsewhere, perhaps with
 * bare LF: `records()` report the size of the normalised bytes, and `read()`, `stream()` and
 * `structure()` serve and describe them, so IMAP RFC822.SIZE equals the length of BODY[] and POP3
 * LIST equals what RETR sends. That costs one read of each message the first time its size is
 * asked for (kept per handle), which is why the built-in stores declare `lineEnds: 'crlf'` and are
 * left alone. STATUS SIZE and SEARCH LARGER/SMALLER still use the store's own figures.
 */
import { parseMessage } from '../mime/index.js';
import type { MessageStructure } from '../mime/types.js';
import { crlfChunks, crlfContent, isCrlf, toCrlf } from './line-ends.js';
import { mapAppendInputs } from './append-many.js';
import type { AppendInput, AppendInputs, ByteRange, KeywordLimitOptions, MailStore, MessageRecord, MessageStream, UserMailbox } from './types.js';

const WRAPPED = Symbol.for('postroom.crlfStore');
/** Per handle: messages whose normalised size is remembered (a session reads its mailbox's). */
const MAX_REMEMBERED = 100_000;

interface Normalised {
  /** Octets once normalised. */
  size: number;
  /** The stored bytes already had CRLF line ends. */
  same: boolean;
}

/** `target` with some properties replaced; everything else is the target's own, bound to it. */
function overlay<T extends object>(target: T, own: Partial<Record<PropertyKey, unknown>>): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, p) {
      if (Object.prototype.hasOwnProperty.call(own, p)) return own[p];
      const value: unknown = Reflect.get(t, p, t);
      if (typeof value !== 'function') return value;
      let fn = bound.get(p);
      if (!fn) bound.set(p, (fn = (value as (...a: unknown[]) => unknown).bind(t)));
      return fn;
    },
    has(t, p) {
      if (Object.prototype.hasOwnProperty.call(own, p)) return own[p] !== undefined;
      return Reflect.has(t, p);
    },
  });
}

function normalisedAppend(handle: UserMailbox): UserMailbox['append'] {
  return (mailboxId: string, input: AppendInput, options?: KeywordLimitOptions) => {
    const content = crlfContent(input.content);
    // A digest of bytes that were changed no longer names them; one over a stream is the caller's
    // promise (docs/store.md: sha256 is over the CRLF form).
    const keepDigest = !Buffer.isBuffer(input.content) || content === input.content;
    const { sha256, ...rest } = input;
    return handle.append(mailboxId, { ...rest, content, ...(keepDigest && sha256 ? { sha256 } : {}) }, options);
  };
}

function normalisedReplace(handle: UserMailbox): UserMailbox['replace'] {
  if (!handle.replace) return undefined;
  return (fromMailboxId, uid, toMailboxId, input, options) => {
    const { sha256: _digest, ...rest } = input;
    return handle.replace!(fromMailboxId, uid, toMailboxId, { ...rest, content: crlfContent(input.content) }, options);
  };
}

function normalisedAppendMany(handle: UserMailbox): UserMailbox['appendMany'] {
  if (!handle.appendMany) return undefined;
  const one = (input: AppendInput): AppendInput => {
    const content = crlfContent(input.content);
    const keepDigest = !Buffer.isBuffer(input.content) || content === input.content;
    const { sha256, ...rest } = input;
    return { ...rest, content, ...(keepDigest && sha256 ? { sha256 } : {}) };
  };
  return (mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions) => handle.appendMany!(mailboxId, Array.isArray(inputs) ? inputs.map(one) : mapAppendInputs(inputs, one), options);
}

async function* sliced(source: AsyncIterable<Buffer>, range: ByteRange | undefined): AsyncIterable<Buffer> {
  if (!range) return yield* source;
  let at = 0;
  for await (const chunk of source) {
    const from = Math.max(range.start - at, 0);
    const to = Math.min(range.end - at, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    at += chunk.length;
    if (at >= range.end) return;
  }
}

/** The read side of a store that may serve bare LF. */
function normalisingHandle(handle: UserMailbox): UserMailbox {
  const known = new Map<string, Normalised>();
  const validity = new Map<string, number>();
  const key = (mailboxId: string, uid: number) => `${mailboxId}\u0000${uid}`;

  const learn = (mailboxId: string, uid: number, raw: Buffer): Buffer => {
    const same = isCrlf(raw);
    const normal = same ? raw : toCrlf(raw);
    if (known.size >= MAX_REMEMBERED) known.clear();
    known.set(key(mailboxId, uid), { size: normal.length, same });
    return normal;
  };
  const whole = async (mailboxId: string, uid: number): Promise<Buffer> => learn(mailboxId, uid, await handle.read(mailboxId, uid));
  const info = async (mailboxId: string, uid: number): Promise<Normalised> => {
    const hit = known.get(key(mailboxId, uid));
    if (hit) return hit;
    await whole(mailboxId, uid);
    return known.get(key(mailboxId, uid))!;
  };

  return overlay(handle, {
    append: normalisedAppend(handle),
    appendMany: normalisedAppendMany(handle),
    replace: normalisedReplace(handle),
    // Sort keys carry sizes; without the store's own list the generic one reads through this view.
    sortData: undefined,
    async snapshot(mailboxId: string) {
      const snap = await handle.snapshot(mailboxId);
      // UIDs of a mailbox whose UIDVALIDITY changed name other messages now.
      if (validity.has(mailboxId) && validity.get(mailboxId) !== snap.uidValidity) {
        for (const k of known.keys()) if (k.startsWith(`${mailboxId}\u0000`)) known.delete(k);
      }
      validity.set(mailboxId, snap.uidValidity);
      return snap;
    },
    async records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
      const records = await handle.records(mailboxId, uids);
      const out: MessageRecord[] = [];
      for (const r of records) {
        try {
          out.push({ ...r, size: (await info(mailboxId, r.uid)).size });
        } catch {
          // Gone between the two calls: left out, as records() leaves out missing messages.
        }
      }
      return out;
    },
    async read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
      const hit = known.get(key(mailboxId, uid));
      if (hit?.same) return handle.read(mailboxId, uid, range);
      const normal = await whole(mailboxId, uid);
      return range ? normal.subarray(Math.min(range.start, normal.length), Math.min(range.end, normal.length)) : normal;
    },
    stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream {
      const hit = known.get(key(mailboxId, uid));
      if (hit?.same) return handle.stream(mailboxId, uid, range);
      // The whole message is looked up (and pinned) at the call, as the contract asks; it is
      // normalised as it is read and the range taken from the normalised bytes.
      const inner = handle.stream(mailboxId, uid);
      const out = sliced(crlfChunks(inner), range);
      return inner.pinned ? Object.assign(out, { pinned: inner.pinned }) : out;
    },
    async structure(mailboxId: string, uid: number): Promise<MessageStructure> {
      if ((await info(mailboxId, uid)).same) return handle.structure(mailboxId, uid);
      return parseMessage(await whole(mailboxId, uid));
    },
  });
}

/**
 * `store` as the protocol servers use it: CRLF line ends on the way in, and on the way out unless
 * the store declares `lineEnds: 'crlf'`. Wrapping twice is wrapping once.
 */
export function crlfStore<S extends MailStore>(store: S): S {
  if ((store as unknown as Record<symbol, unknown>)[WRAPPED]) return store;
  const servesCrlf = store.lineEnds === 'crlf';
  return overlay(store, {
    [WRAPPED]: true,
    async open(user: string, options?: Parameters<MailStore['open']>[1]) {
      const handle = await store.open(user, options);
      return servesCrlf ? overlay(handle, { append: normalisedAppend(handle), appendMany: normalisedAppendMany(handle), replace: normalisedReplace(handle) }) : normalisingHandle(handle);
    },
  });
}

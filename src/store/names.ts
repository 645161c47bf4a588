/**
 * Mailbox name validation and normalisation, the same for every store.
 *
 * Names reach the store already decoded from the wire (modified UTF-7 / UTF-8), so this checks the
 * Unicode text. The rules keep names portable to any backend (files, SQL, object keys) and keep
 * a user inside their own tree: no path tricks ("..", "~user", absolute "/x"), no control
 * characters that could corrupt logs or protocol output.
 */
import { StoreError } from './errors.js';

export const MAX_MAILBOX_NAME_BYTES = 255;
export const MAX_MAILBOX_DEPTH = 32;

// U+0000–U+001F and U+007F; lone surrogates cannot be encoded in UTF-8 and would change on round trip.
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;

function reject(reason: string): never {
  throw new StoreError('cannot', `invalid mailbox name: ${reason}`);
}

/**
 * Returns the canonical spelling of `name`, or throws StoreError('cannot').
 * RFC 3501 §5.1: INBOX is case-insensitive, so "inbox" and "Inbox/x" become "INBOX" and "INBOX/x";
 * every other level keeps its case.
 */
export function validateMailboxName(name: string, delimiter: string): string {
  if (name.length === 0) reject('empty');
  if (CONTROL.test(name)) reject('control characters are not allowed');
  if (LONE_SURROGATE.test(name)) reject('not valid Unicode');
  if (name.startsWith('~') || name.startsWith('/')) reject('may not start with "~" or "/"');
  if (Buffer.byteLength(name, 'utf8') > MAX_MAILBOX_NAME_BYTES) reject(`longer than ${MAX_MAILBOX_NAME_BYTES} bytes`);
  const levels = delimiter === '' ? [name] : name.split(delimiter);
  if (levels.length > MAX_MAILBOX_DEPTH) reject(`deeper than ${MAX_MAILBOX_DEPTH} levels`);
  for (const level of levels) {
    if (level.length === 0) reject('empty hierarchy level');
    if (level === '.' || level === '..') reject('"." and ".." are not allowed as levels');
  }
  // A regex, not toUpperCase(): "ınbox" (Turkish dotless i) must not become INBOX.
  if (/^inbox$/i.test(levels[0]!)) levels[0] = 'INBOX';
  return levels.join(delimiter);
}

/** The names of all ancestors of a (validated) name, outermost first: "a/b/c" → ["a", "a/b"]. */
export function parentNames(name: string, delimiter: string): string[] {
  const levels = name.split(delimiter);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(delimiter));
  return out;
}

/** True when `name` is `ancestor` itself or lies below it in the hierarchy. */
export function isSameOrBelow(name: string, ancestor: string, delimiter: string): boolean {
  return name === ancestor || name.startsWith(ancestor + delimiter);
}

/** Tree order for list(): INBOX first, then level by level, so a parent always precedes its children. */
export function compareMailboxNames(a: string, b: string, delimiter: string): number {
  if (a === b) return 0;
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  const la = a.split(delimiter);
  const lb = b.split(delimiter);
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return la[i]! < lb[i]! ? -1 : 1;
  }
  return la.length - lb.length;
}

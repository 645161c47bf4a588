/**
 * Structures and header blocks of many messages (FETCH of a range), from any store: its
 * messageHeads() when it has one (one call, the SQL stores one statement per kind of data), or
 * structure() and read() of each message.
 */
import type { MessageStructure } from '../mime/types.js';
import { isStoreError } from './errors.js';
import type { ByteRange, MessageHead, MessageHeadOptions, UserMailbox } from './types.js';

/** The root part's header, blank line included, within the message: the bytes MessageHead.header holds. */
export function headerRange(structure: MessageStructure): ByteRange {
  const end = Math.min(structure.root.bodyStart, structure.size);
  return { start: Math.min(structure.root.headerStart, end), end };
}

/** Calls in flight at once in the fallback: a store in another thread or process answers them together. */
const FALLBACK_OVERLAP = 16;

export async function messageHeads(mail: UserMailbox, mailboxId: string, uids: readonly number[], options: MessageHeadOptions = {}): Promise<MessageHead[]> {
  const ascending = strictlyAscending(uids) ? (uids as number[]) : [...new Set(uids)].sort((a, b) => a - b);
  if (mail.messageHeads) return mail.messageHeads(mailboxId, ascending, options);
  const one = async (uid: number): Promise<MessageHead | null> => {
    try {
      const structure = await mail.structure(mailboxId, uid);
      if (!options.header) return { uid, structure };
      return { uid, structure, header: await mail.read(mailboxId, uid, headerRange(structure)) };
    } catch (err) {
      // Gone meanwhile (expunged by another session): skipped, as records() skips it.
      if (isStoreError(err) && err.kind === 'nonexistent') return null;
      throw err;
    }
  };
  const out: MessageHead[] = [];
  for (let i = 0; i < ascending.length; i += FALLBACK_OVERLAP) {
    const heads = await Promise.all(ascending.slice(i, i + FALLBACK_OVERLAP).map(one));
    for (const h of heads) if (h) out.push(h);
  }
  return out;
}

/** FETCH asks in ascending order already (each UID once): then no copy is made. */
function strictlyAscending(uids: readonly number[]): boolean {
  for (let i = 1; i < uids.length; i++) if (uids[i - 1]! >= uids[i]!) return false;
  return true;
}

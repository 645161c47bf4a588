/**
 * The SORT/THREAD keys of a mailbox's messages, whatever the store: its own sortData() when it has
 * one (the built-in stores keep the keys from APPEND), or else computed here from what every store
 * offers — records() for dates and sizes, structure() and the header bytes for the keys. The
 * fallback keeps what it computed per handle (a UID names the same message for as long as the
 * mailbox exists), so only the first SORT of a session reads each message.
 */
import { messageSortKeys } from '../../mime/index.js';
import type { MessageSortKeys, SortableMessage, SortKeyNames, UserMailbox } from '../types.js';

/** Store calls the fallback keeps in flight at once (a remote store answers them together). */
const PARALLEL = 16;

interface MailboxKeys {
  keys: Map<number, MessageSortKeys>;
  /** The last answer, returned again while the messages are the same (callers cache by identity). */
  last?: readonly SortableMessage[];
}

const computed = new WeakMap<UserMailbox, Map<string, MailboxKeys>>();

/**
 * Every message of the mailbox, ascending by UID. `uids` (ascending) says which messages the caller
 * knows of; a store with sortData() answers for the mailbox as it is, the fallback for those UIDs
 * (all of the mailbox's when not given). `keys`: the keys the caller will read (the store's hint).
 */
export async function sortData(
  mail: UserMailbox,
  mailboxId: string,
  uids?: readonly number[],
  keys?: SortKeyNames,
): Promise<readonly SortableMessage[]> {
  if (mail.sortData) return keys ? mail.sortData(mailboxId, keys) : mail.sortData(mailboxId);
  uids ??= (await mail.snapshot(mailboxId)).messages.map((m) => m.uid);
  let perHandle = computed.get(mail);
  if (!perHandle) computed.set(mail, (perHandle = new Map()));
  let box = perHandle.get(mailboxId);
  if (!box) perHandle.set(mailboxId, (box = { keys: new Map() }));
  const records = await mail.records(mailboxId, [...uids]);
  const missing = records.filter((r) => !box.keys.has(r.uid)).map((r) => r.uid);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const uid = missing[next++]!;
      try {
        const structure = await mail.structure(mailboxId, uid);
        const header = await mail.read(mailboxId, uid, { start: 0, end: structure.root.bodyStart });
        box.keys.set(uid, messageSortKeys(header, structure));
      } catch {
        // Expunged meanwhile: it simply is not part of the answer.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, missing.length) }, worker));
  const list: SortableMessage[] = [];
  for (const r of records) {
    const keys = box.keys.get(r.uid);
    if (keys) list.push({ ...keys, uid: r.uid, internalDate: r.internalDate.getTime(), size: r.size });
  }
  const last = box.last;
  if (last && last.length === list.length && last.every((m, i) => m.uid === list[i]!.uid)) return last;
  box.last = list;
  return list;
}

/** Every key plainSortable() reads (sortData's hint when all of them are wanted). */
export const ALL_SORT_KEYS: SortKeyNames = [
  'sentDate', 'subject', 'replyOrForward', 'from', 'to', 'cc', 'displayFrom', 'displayTo', 'messageId', 'references',
];

/**
 * A message's keys as a plain object. A store may hand out objects that read their keys on demand
 * (the SQLite store does); this is what crosses a process link, or what tests compare.
 */
export function plainSortable(m: SortableMessage): SortableMessage {
  return {
    uid: m.uid,
    internalDate: m.internalDate,
    size: m.size,
    sentDate: m.sentDate,
    subject: m.subject,
    replyOrForward: m.replyOrForward,
    from: m.from,
    to: m.to,
    cc: m.cc,
    displayFrom: m.displayFrom,
    displayTo: m.displayTo,
    messageId: m.messageId,
    references: [...m.references],
  };
}

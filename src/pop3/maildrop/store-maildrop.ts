/**
 * The store-backed maildrop: the user's INBOX in the MailStore that IMAP serves too.
 *
 * UIDL is `${uidValidity}.${uid}`: both numbers are kept by the store across sessions and
 * restarts, and a UID is never reused within one UIDVALIDITY (RFC 3501 §2.3.1.1), so the pair is
 * unique and stable as RFC 1939 §7 requires — unlike a Message-ID, which senders repeat.
 *
 * DELE is applied at QUIT as "+\Deleted on exactly those UIDs, then expunge exactly those", which
 * the store publishes on its change feed, so IMAP sessions see EXPUNGE. Messages sent whole by RETR
 * get \Seen at the same moment, so an IMAP client knows they were read; a dropped connection
 * changes nothing. A read-only INBOX (MailboxInfo.readOnly) is served as it is: DELE is refused and
 * QUIT changes nothing.
 */
import type { MailStore, UserMailbox } from '../../store/types.js';
import { StoreError } from '../../store/errors.js';
import { crlfStore } from '../../store/crlf-store.js';
import { Pop3Error } from '../errors.js';
import type { Maildrop, MaildropSource } from './types.js';
import { TimeSlice } from '../../util/time-slice.js';

/**
 * Messages per store write at QUIT. Small, so that no one write holds the event loop for more than
 * a fraction of a millisecond (250 expunges in a mailbox of 100,000 were 3-4 ms on a quiet machine,
 * 10-50 under load); several are in flight at once, so the SQLite group commit still packs them
 * into transactions bounded by its time budget (group-commit.ts, maxBatchMs) and one WAL sync
 * serves many of them — one at a time, each waiting for its own sync, 50 a write took three times
 * as long as 250.
 */
const WRITE_SLICE = 50;
const WRITES_IN_FLIGHT = 8;
/** Messages per records() read at login. */
const READ_SLICE = 1_000;

function* slices<T>(items: readonly T[], size: number): Iterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Runs `work` on each item with at most `width` running at once. After a failure no new item is
 * started; the ones running finish, and the first failure is thrown.
 */
async function inFlight<T>(items: Iterable<T>, width: number, work: (item: T) => Promise<void>): Promise<void> {
  const source = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let next = source.next(); !next.done && !failure; next = source.next()) {
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  if (failure) throw failure.error;
}

class StoreMaildrop implements Maildrop {
  constructor(
    private readonly handle: UserMailbox,
    private readonly mailboxId: string,
    private readonly uidValidity: number,
    /** UIDs and sizes by message index: two arrays of numbers rather than 100,000 records (each with its Dates and flag array) that every major GC would walk while the session lasts. */
    private readonly uids: Float64Array,
    private readonly sizes: Float64Array,
    readonly readOnly: boolean,
  ) {}

  get count(): number {
    return this.uids.length;
  }

  async size(index: number): Promise<number> {
    return this.sizes[index]!;
  }

  uidl(index: number): string {
    return `${this.uidValidity}.${this.uids[index]!}`;
  }

  async *content(index: number): AsyncIterable<Buffer> {
    try {
      yield* this.handle.stream(this.mailboxId, this.uids[index]!);
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'nonexistent') {
        throw new Pop3Error('Message was removed by another session');
      }
      throw err;
    }
  }

  async commit(deleted: number[], retrieved: number[]): Promise<void> {
    // Neither \Seen nor deletions: the store would refuse them ('noperm'), and QUIT should not fail.
    if (this.readOnly) return;
    const status = await this.handle.status(this.mailboxId);
    if (status.uidValidity !== this.uidValidity) {
      // The UIDs we hold now name other messages (or none): touching them could lose mail.
      throw new Pop3Error('Mailbox was reset during the session; no messages were deleted', 'SYS/PERM');
    }
    // A mark per message, then one pass in index order (the UIDs as SEARCH gave them, ascending:
    // no sort), with the loop let go every couple of milliseconds. Done in one go — a typed-array
    // sort of the UIDs — over 100,000 deleted messages this was the 50-70 ms of CPU (under load)
    // that the POP3 large-maildrop test read at QUIT, before the first write.
    const slice = new TimeSlice();
    const gone = new Uint8Array(this.uids.length);
    for (let k = 0; k < deleted.length; k++) {
      gone[deleted[k]!] = 1;
      if ((k & 4095) === 4095) await slice.pause();
    }
    const seen: number[] = [];
    for (let k = 0; k < retrieved.length; k++) {
      if (gone[retrieved[k]!] === 0) seen.push(this.uids[retrieved[k]!]!);
      if ((k & 4095) === 4095) await slice.pause();
    }
    const uids: number[] = [];
    for (let i = 0; i < gone.length; i++) {
      if (gone[i] === 1) uids.push(this.uids[i]!);
      if ((i & 4095) === 4095) await slice.pause();
    }
    // In slices, like IMAP's big writes: one store call over 100,000 messages is one long
    // transaction on SQLite, during which every other session waits. RFC 1939 §6 allows a QUIT
    // that removed only some of the messages ("-ERR some deleted messages not removed"); each
    // slice is acknowledged only once durable, and QUIT answers +OK only once all of them are.
    await inFlight(slices(seen, WRITE_SLICE), WRITES_IN_FLIGHT, async (part) => {
      await this.handle.updateFlags(this.mailboxId, part, 'add', ['\\Seen']);
    });
    await inFlight(slices(uids, WRITE_SLICE), WRITES_IN_FLIGHT, async (part) => {
      await this.handle.updateFlags(this.mailboxId, part, 'add', ['\\Deleted']);
      await this.handle.expunge(this.mailboxId, part);
    });
  }

  async release(): Promise<void> {
    await this.handle.close();
  }
}

export function storeMaildrops(given: MailStore): MaildropSource {
  // CRLF line ends, so LIST (the record's size) is what RETR sends (docs/store.md).
  const store = crlfStore(given);
  return {
    async open(user, sessionId) {
      const handle = await store.open(user, { origin: sessionId });
      try {
        const inbox = await handle.get('INBOX');
        // SEARCH rather than a whole snapshot: the stores run it in steps (a snapshot of 100,000
        // messages was one stretch of over a second on SQLite), and it gives only the UIDs needed.
        const { uidValidity } = await handle.status(inbox.id);
        const uids = await handle.search(inbox.id, { type: 'flag', flag: '\\Deleted', set: false });
        // The records in pages, each its own store call, so a maildrop of 100,000 is not one stretch
        // — with the loop let go between them: a store that reads synchronously (SQLite, memory)
        // returns a settled promise, and awaiting it does not yield, so without the pause the
        // pages were still one stretch of ~200 ms.
        const kept = new Float64Array(uids.length);
        const sizes = new Float64Array(uids.length);
        let count = 0;
        const slice = new TimeSlice();
        for (const part of slices(uids, READ_SLICE)) {
          await slice.pause();
          for (const r of await handle.records(inbox.id, part)) {
            kept[count] = r.uid;
            sizes[count++] = r.size;
          }
        }
        // (Fewer when messages were expunged between the SEARCH and the reads.)
        return new StoreMaildrop(handle, inbox.id, uidValidity, kept.subarray(0, count), sizes.subarray(0, count), inbox.readOnly === true);
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
    },
  };
}

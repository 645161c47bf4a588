/**
 * STATUS, SELECT and SORT/THREAD on a large SQLite mailbox (issue 13: no command holds the event
 * loop long). The counts (src/store/sqlite/mailbox-status.ts), the first snapshot of a mailbox not
 * yet cached (src/store/sqlite/snapshot-cache.ts) and the SORT/THREAD keys not yet cached
 * (src/store/sqlite/sort-cache.ts) are read in pages with the event loop let go between them,
 * and the answer is still one state of the mailbox when other writes land between the pages —
 * never pages of different moments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailboxSnapshot, UserMailbox } from '../../src/store/types.js';

/** Enough rows that one sum takes several milliseconds, so it is cut into slices. */
const MESSAGES = 60_000;
const BODY = Buffer.from('From: a@example.org\r\nSubject: status\r\n\r\nbody\r\n');

/** Runs `fn` while counting event-loop turns: more than one means it let the loop go. */
async function turnsDuring<T>(fn: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const value = await fn();
  ticking = false;
  return { value, turns };
}

/** Seeds carol's INBOX with MESSAGES copies of BODY, 2,000 APPENDs in flight at a time. */
async function seeded(dir: string): Promise<{ store: SqliteStore; mail: UserMailbox; inbox: string }> {
  const store = await SqliteStore.open({ directory: dir });
  const mail = await store.open('carol');
  const inbox = (await mail.get('INBOX')).id;
  for (let i = 0; i < MESSAGES; i += 2000) {
    await Promise.all(Array.from({ length: Math.min(2000, MESSAGES - i) }, () => mail.append(inbox, { content: BODY })));
  }
  return { store, mail, inbox };
}

/**
 * The writes the race tests land between the pages, queued at once so that the group commit runs
 * them at the reader's first yields: \Seen on the first thousand (in the first page), then the last
 * thousand expunged (in the last), then one more message.
 */
async function writesBetweenPages(mail: UserMailbox, inbox: string): Promise<void> {
  const first = Array.from({ length: 1000 }, (_, i) => i + 1);
  const last = Array.from({ length: 1000 }, (_, i) => MESSAGES - 999 + i);
  await mail.updateFlags(inbox, first, 'add', ['\\Seen']);
  await mail.updateFlags(inbox, last, 'add', ['\\Deleted']);
  await mail.expunge(inbox, last);
  await mail.append(inbox, { content: BODY });
}

describe(`SQLite STATUS on a mailbox of ${MESSAGES} messages`, () => {
  let dir: string;
  let store: SqliteStore;
  let mail: UserMailbox;
  let inbox: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-status-slices-'));
    ({ store, mail, inbox } = await seeded(dir));
  });

  after(async () => {
    await mail.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the event loop run while it sums, and the sums are right', async () => {
    const { value: status, turns } = await turnsDuring(() => mail.status(inbox));
    assert.deepEqual(
      { messages: status.messages, unseen: status.unseen, size: status.size, uidNext: status.uidNext },
      { messages: MESSAGES, unseen: MESSAGES, size: MESSAGES * BODY.length, uidNext: MESSAGES + 1 },
    );
    // One statement over every row would have run in one turn.
    assert.ok(turns >= 2, `the loop turned ${turns} times while STATUS summed ${MESSAGES} rows`);
  });

  it('answers one state of the mailbox when writes land between its pages', async () => {
    assert.equal((await mail.status(inbox)).unseen, MESSAGES);
    const pending = mail.status(inbox);
    const writes = writesBetweenPages(mail, inbox);
    const status = await pending;
    await writes;
    const states = [
      [MESSAGES, MESSAGES], // before any
      [MESSAGES, MESSAGES - 1000], // \Seen (and \Deleted) set
      [MESSAGES - 1000, MESSAGES - 2000], // expunged
      [MESSAGES - 999, MESSAGES - 1999], // appended
    ];
    const got = [status.messages, status.unseen];
    assert.ok(
      states.some(([m, u]) => m === got[0] && u === got[1]),
      `STATUS answered ${got.join('/')} messages/unseen, a state the mailbox never had`,
    );
    assert.equal(status.size, status.messages * BODY.length);
    // And once the writes are done, the last state.
    const now = await mail.status(inbox);
    assert.deepEqual([now.messages, now.unseen, now.uidNext], [MESSAGES - 999, MESSAGES - 1999, MESSAGES + 2]);
  });
});

describe(`SQLite SELECT of a mailbox of ${MESSAGES} messages not yet cached`, () => {
  let dir: string;
  let store: SqliteStore;
  let mail: UserMailbox;
  let inbox: string;

  /** What the store holds now, message by message (records() reads the rows themselves, no snapshot). */
  async function rows(): Promise<Array<{ uid: number; flags: string; modseq: number }>> {
    const all = await mail.records(inbox, Array.from({ length: MESSAGES + 10 }, (_, i) => i + 1));
    return all.map((r) => ({ uid: r.uid, flags: [...r.flags].sort().join(' '), modseq: r.modseq }));
  }

  const shape = (s: MailboxSnapshot): Array<{ uid: number; flags: string; modseq: number }> =>
    s.messages.map((m) => ({ uid: m.uid, flags: [...m.flags].sort().join(' '), modseq: m.modseq }));

  before(async () => {
    // A store opened afresh on the seeded folder: nothing cached, and no snapshot saved (the seed's
    // store saved one at close, which is removed).
    dir = await mkdtemp(join(tmpdir(), 'postroom-select-slices-'));
    const seed = await seeded(dir);
    await seed.mail.close();
    await seed.store.close();
    const db = new Database(join(dir, 'mail.sqlite'));
    db.prepare('DELETE FROM mailbox_snapshots').run();
    db.close();
    store = await SqliteStore.open({ directory: dir });
    mail = await store.open('carol');
    inbox = (await mail.get('INBOX')).id;
  });

  after(async () => {
    await mail.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads it in pages, letting the loop run, while writes land between them: one state, caught up', async () => {
    const pending = turnsDuring(() => mail.snapshot(inbox));
    const writes = writesBetweenPages(mail, inbox);
    const { value: snapshot, turns } = await pending;
    await writes;
    assert.ok(turns >= 2, `the loop turned ${turns} times while SELECT read ${MESSAGES} rows`);
    // The snapshot answers for the HIGHESTMODSEQ it names: every message as it was then.
    const expected = (await rows()).filter((r) => r.modseq <= snapshot.highestModseq);
    const got = shape(snapshot).filter((m) => m.modseq <= snapshot.highestModseq);
    assert.equal(got.length, snapshot.messages.length, 'no message newer than the snapshot');
    if (snapshot.highestModseq === (await mail.status(inbox)).highestModseq) {
      assert.deepEqual(got, expected);
    } else {
      // Taken before the last writes: its count and flags are those of a state the mailbox had.
      const seen = got.filter((m) => m.flags.includes('\\Seen')).length;
      assert.ok(
        [
          [MESSAGES, 0],
          [MESSAGES, 1000],
          [MESSAGES - 1000, 1000],
        ].some(([n, k]) => n === got.length && k === seen),
        `SELECT saw ${got.length} messages, ${seen} of them \\Seen: a state the mailbox never had`,
      );
    }
    // The cache now holds it; the next SELECT is brought up to date from there and is exact.
    const again = await mail.snapshot(inbox);
    assert.equal(again.messages.length, MESSAGES - 999);
    assert.deepEqual(shape(again), await rows());
  });
});

describe(`SQLite SORT/THREAD keys of a mailbox of ${MESSAGES} messages not yet cached`, () => {
  let dir: string;
  let store: SqliteStore;
  let mail: UserMailbox;
  let inbox: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-sort-slices-'));
    ({ store, mail, inbox } = await seeded(dir));
  });

  after(async () => {
    await mail.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the keys in pages, letting the loop run, while writes land between them: one state, caught up', async () => {
    const keys = ['messageIdKey', 'referenceKeys', 'subjectKey', 'replyOrForward', 'sentDate'] as const;
    const pending = turnsDuring(() => mail.sortData!(inbox, keys));
    // Queued at once: they run at the reader's first yields. The first thousand (the first page,
    // read before) go, then one message comes: a list of pages from different moments would hold
    // both UID 1 and the new one, which no state of the mailbox ever did.
    const writes = (async () => {
      const first = Array.from({ length: 1000 }, (_, i) => i + 1);
      await mail.updateFlags(inbox, first, 'add', ['\\Deleted']);
      await mail.expunge(inbox, first);
      await mail.append(inbox, { content: Buffer.from('Message-ID: <new@example.org>\r\nSubject: new\r\n\r\nnew\r\n') });
    })();
    const { value: list, turns } = await pending;
    await writes;
    assert.ok(turns >= 2, `the loop turned ${turns} times while the keys of ${MESSAGES} messages were read`);
    const uids = list.map((m) => m.uid);
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const states = [range(1, MESSAGES), range(1001, MESSAGES), [...range(1001, MESSAGES), MESSAGES + 1]];
    assert.ok(
      states.some((s) => s.length === uids.length && s.every((u, i) => u === uids[i])),
      `sortData answered ${uids.length} messages, UIDs ${uids[0]}..${uids.at(-1)}: a state the mailbox never had`,
    );
    // Every message has its keys (none left empty by a page read after it was expunged).
    assert.ok(list.every((m) => m.subjectKey !== undefined && m.messageIdKey !== undefined && m.sentDate !== undefined));
    // Once the writes are done, the list is caught up exactly, and its keys are those of each UID.
    const now = await mail.sortData!(inbox, keys);
    assert.deepEqual(
      now.map((m) => m.uid),
      [...range(1001, MESSAGES), MESSAGES + 1],
    );
    assert.equal(now.at(-1)!.subject, 'NEW'); // casemapped (sort keys)
    assert.equal(now[0]!.subject, 'STATUS');
    assert.equal(now[0]!.subjectKey, list.find((m) => m.uid === now[0]!.uid)!.subjectKey);
  });

  // The cached list caught up after an expunge: the UIDs still present were read in one statement
  // and every column carried over in one go (issue 13); now in pages, still one state.
  it('catches a cached list up after an expunge in pages, letting the loop run, while writes land between them: one state', async () => {
    const keys = ['messageIdKey', 'referenceKeys', 'subjectKey', 'replyOrForward', 'sentDate'] as const;
    const before = (await mail.sortData!(inbox, keys)).map((m) => m.uid);
    // Every 7th message goes: the catch-up drops messages all over the list.
    const gone = before.filter((_, i) => i % 7 === 3);
    await mail.updateFlags(inbox, gone, 'add', ['\\Deleted']);
    await mail.expunge(inbox, gone);
    const stateA = before.filter((_, i) => i % 7 !== 3);
    const pending = turnsDuring(() => mail.sortData!(inbox, keys));
    const later = stateA.filter((u) => u > 20_000 && u <= 21_000);
    const writes = (async () => {
      await mail.updateFlags(inbox, later, 'add', ['\\Deleted']);
      await mail.expunge(inbox, later);
      await mail.append(inbox, { content: Buffer.from('Message-ID: <newer@example.org>\r\nSubject: newer\r\n\r\nnewer\r\n') });
    })();
    const { value: list, turns } = await pending;
    await writes;
    assert.ok(turns >= 2, `the loop turned ${turns} times while the list of ${MESSAGES} messages caught up`);
    const stateB = stateA.filter((u) => u <= 20_000 || u > 21_000);
    const newUid = before.at(-1)! + 1;
    const uids = list.map((m) => m.uid);
    assert.ok(
      [stateA, stateB, [...stateB, newUid]].some((s) => s.length === uids.length && s.every((u, i) => u === uids[i])),
      `sortData answered ${uids.length} messages: a state the mailbox never had`,
    );
    assert.ok(list.every((m) => m.subjectKey !== undefined && m.messageIdKey !== undefined && m.sentDate !== undefined && m.referenceKeys !== undefined));
    // Once the writes are done: exactly the mailbox, each UID with its own keys.
    const now = await mail.sortData!(inbox, keys);
    assert.deepEqual(
      now.map((m) => m.uid),
      [...stateB, newUid],
    );
    assert.equal(now.at(-1)!.subject, 'NEWER');
    assert.equal(now.at(-2)!.subject, 'NEW');
    assert.ok(now.slice(0, -2).every((m) => m.subject === 'STATUS'));
  });
});

/**
 * STATUS on a large SQLite mailbox (src/store/sqlite/mailbox-status.ts, issue 13): the counts are
 * summed in pages with the event loop let go between them, and the answer is still one state of the
 * mailbox when other writes land between the pages — never pages of different moments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { UserMailbox } from '../../src/store/types.js';

/** Enough rows that one sum takes several milliseconds, so it is cut into slices. */
const MESSAGES = 60_000;
const BODY = Buffer.from('From: a@example.org\r\nSubject: status\r\n\r\nbody\r\n');

describe(`SQLite STATUS on a mailbox of ${MESSAGES} messages`, () => {
  let dir: string;
  let store: SqliteStore;
  let mail: UserMailbox;
  let inbox: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-status-slices-'));
    store = await SqliteStore.open({ directory: dir });
    mail = await store.open('carol');
    inbox = (await mail.get('INBOX')).id;
    for (let i = 0; i < MESSAGES; i += 2000) {
      await Promise.all(Array.from({ length: Math.min(2000, MESSAGES - i) }, () => mail.append(inbox, { content: BODY })));
    }
  });

  after(async () => {
    await mail.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the event loop run while it sums, and the sums are right', async () => {
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const status = await mail.status(inbox);
    ticking = false;
    assert.deepEqual(
      { messages: status.messages, unseen: status.unseen, size: status.size, uidNext: status.uidNext },
      { messages: MESSAGES, unseen: MESSAGES, size: MESSAGES * BODY.length, uidNext: MESSAGES + 1 },
    );
    // One statement over every row would have run in one turn.
    assert.ok(turns >= 2, `the loop turned ${turns} times while STATUS summed ${MESSAGES} rows`);
  });

  it('answers one state of the mailbox when writes land between its pages', async () => {
    const before = await mail.status(inbox);
    assert.equal(before.unseen, MESSAGES);
    // Queued at once: the group commit runs them at STATUS's first yields. \Seen on the first
    // thousand (in the first page), then the last thousand expunged (in the last), then one more.
    const pending = mail.status(inbox);
    const first = Array.from({ length: 1000 }, (_, i) => i + 1);
    const last = Array.from({ length: 1000 }, (_, i) => MESSAGES - 999 + i);
    const writes = (async () => {
      await mail.updateFlags(inbox, first, 'add', ['\\Seen']);
      await mail.updateFlags(inbox, last, 'add', ['\\Deleted']);
      await mail.expunge(inbox, last);
      await mail.append(inbox, { content: BODY });
    })();
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

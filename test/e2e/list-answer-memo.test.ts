/**
 * A plain LIST's answer is kept as bytes while the store hands out the same frozen mailbox entries
 * (src/imap/list/answer-memo.ts). Over a real socket on the SQLite store (whose kept lists hand out
 * frozen entries): the kept answer must equal a freshly computed one after every change to the tree,
 * for each pattern, with and without UTF-8 names, and must never stand in for a LIST whose answer
 * depends on more than the tree (SUBSCRIBED, STATUS). The memo's own rules are unit-tested below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startImapServer } from '../helpers/imap-server.js';
import { loggedIn, run } from '../helpers/raw-client.js';
import { keepListAnswer, keptListAnswer } from '../../src/imap/list/answer-memo.js';
import type { MailboxInfo } from '../../src/store/types.js';

/** The untagged lines of a LIST, in order. */
const listLines = (lines: string[]): string[] => lines.filter((l) => l.startsWith('* LIST'));

test('a kept LIST answer equals a fresh one after every change to the tree (SQLite, real socket)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-list-memo-'));
  const store = await SqliteStore.open({ directory: dir });
  const srv = await startImapServer({ store });
  const a = await loggedIn(srv.port, 'alice', 'secret');
  const u = await loggedIn(srv.port, 'alice', 'secret');
  try {
    assert.match((await run(u, 'e', 'ENABLE UTF8=ACCEPT')).join('\n'), /ENABLED UTF8=ACCEPT/);
    let n = 0;
    /** LIST twice in a row (the second from the memo) on both sessions: the same lines each time. */
    const both = async (pattern: string): Promise<{ ascii: string[]; utf8: string[] }> => {
      const first = listLines(await run(a, `l${++n}`, `LIST "" ${pattern}`));
      assert.deepEqual(listLines(await run(a, `l${++n}`, `LIST "" ${pattern}`)), first, `${pattern}: kept answer`);
      const utf8 = listLines(await run(u, `l${++n}`, `LIST "" ${pattern}`));
      assert.deepEqual(listLines(await run(u, `l${++n}`, `LIST "" ${pattern}`)), utf8, `${pattern}: kept UTF-8 answer`);
      return { ascii: first, utf8 };
    };

    assert.deepEqual((await both('"*"')).ascii, ['* LIST (\\HasNoChildren) "/" INBOX']);
    await run(a, 'c1', 'CREATE Work/Projects');
    assert.deepEqual((await both('"*"')).ascii, ['* LIST (\\HasNoChildren) "/" INBOX', '* LIST (\\HasChildren) "/" Work', '* LIST (\\HasNoChildren) "/" Work/Projects']);
    // Another pattern of the same tree, then the first again: each its own answer.
    assert.deepEqual((await both('"%"')).ascii, ['* LIST (\\HasNoChildren) "/" INBOX', '* LIST (\\HasChildren) "/" Work']);
    assert.equal((await both('"*"')).ascii.length, 3);
    // A non-ASCII name: modified UTF-7 for one session, UTF-8 for the other (RFC 6855 §3).
    await run(a, 'c2', 'CREATE &AMk-t&AOk-');
    const names = await both('"*"');
    assert.ok(names.ascii.includes('* LIST (\\HasNoChildren) "/" &AMk-t&AOk-'), names.ascii.join('\n'));
    // (The test client reads bytes as latin1.)
    assert.ok(names.utf8.includes(`* LIST (\\HasNoChildren) "/" "${Buffer.from('Été').toString('latin1')}"`), names.utf8.join('\n'));
    await run(a, 'r1', 'RENAME Work Job');
    assert.deepEqual((await both('"*"')).ascii, ['* LIST (\\HasNoChildren) "/" INBOX', '* LIST (\\HasChildren) "/" Job', '* LIST (\\HasNoChildren) "/" Job/Projects', '* LIST (\\HasNoChildren) "/" &AMk-t&AOk-']);
    await run(a, 'd1', 'DELETE Job/Projects');
    assert.deepEqual((await both('"*"')).ascii, ['* LIST (\\HasNoChildren) "/" INBOX', '* LIST (\\HasNoChildren) "/" Job', '* LIST (\\HasNoChildren) "/" &AMk-t&AOk-']);

    // A subscription changes no plain LIST, but the LISTs that show it are never answered from the memo.
    await run(a, 's1', 'SUBSCRIBE Job');
    assert.ok(listLines(await run(a, 'x1', 'LIST "" "*" RETURN (SUBSCRIBED)')).includes('* LIST (\\HasNoChildren \\Subscribed) "/" Job'));
    assert.deepEqual(listLines(await run(a, 'x2', 'LIST (SUBSCRIBED) "" "J*"')), ['* LIST (\\HasNoChildren \\Subscribed) "/" Job']);
    const withStatus = await run(a, 'x3', 'LIST "" "Job" RETURN (STATUS (MESSAGES))');
    assert.ok(withStatus.includes('* STATUS Job (MESSAGES 0)'), withStatus.join('\n'));
    await run(a, 'p1', 'APPEND Job {10}\r\nSubject:\r\n');
    const after = await run(a, 'x4', 'LIST "" "Job" RETURN (STATUS (MESSAGES))');
    assert.ok(after.includes('* STATUS Job (MESSAGES 1)'), after.join('\n'));
    // A parent deleted under its child stays as a \\Noselect name: the kept answer follows.
    await run(a, 'c3', 'CREATE Top/Leaf');
    await run(a, 'd2', 'DELETE Top');
    const top = (await both('"T*"')).ascii;
    assert.deepEqual(top, ['* LIST (\\Noselect \\HasChildren) "/" Top', '* LIST (\\HasNoChildren) "/" Top/Leaf'], top.join('\n'));
  } finally {
    a.destroy();
    u.destroy();
    await srv.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

const box = (id: string, name: string): MailboxInfo => Object.freeze({ id, name, noselect: false, subscribed: false });

test('the memo answers only for the same frozen entries in the same order and the same key', () => {
  const inbox = box('1', 'INBOX');
  const work = box('2', 'Work');
  const bytes = Buffer.from('* LIST () "/" INBOX\r\n* LIST () "/" Work\r\n');
  keepListAnswer([inbox, work], 'k', bytes);
  // A new array holding the same objects (stores hand out a copy of their kept list) hits.
  assert.equal(keptListAnswer([inbox, work], 'k'), bytes);
  assert.equal(keptListAnswer([inbox, work], 'other key'), undefined);
  assert.equal(keptListAnswer([inbox], 'k'), undefined, 'an entry fewer');
  assert.equal(keptListAnswer([inbox, work, box('3', 'New')], 'k'), undefined, 'an entry more');
  assert.equal(keptListAnswer([inbox, box('2', 'Work')], 'k'), undefined, 'an equal but new object');
  assert.equal(keptListAnswer([work, inbox], 'k'), undefined, 'another first entry');
  assert.equal(keptListAnswer([], 'k'), undefined);
  // Entries that could still change are never kept for.
  const loose: MailboxInfo = { id: '9', name: 'Loose', noselect: false, subscribed: false };
  keepListAnswer([loose], 'k', bytes);
  assert.equal(keptListAnswer([loose], 'k'), undefined);
  keepListAnswer([box('4', 'A'), loose], 'k', bytes);
  assert.equal(keptListAnswer([box('4', 'A'), loose], 'k'), undefined);
});

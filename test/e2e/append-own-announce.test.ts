/**
 * A session's own APPEND into its selected mailbox is announced from what the store returned
 * (AppendResult.flags with uid and modseq; SQLite) instead of being read back: the view must then
 * hold the flags as stored — normalised — and the modseq, exactly as a read would have given. And
 * a flag change by another session between the APPEND and the announcement must still win.
 */
import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const MSG = 'Subject: own\r\n\r\nbody\r\n';

async function sqliteServer(t: TestContext): Promise<{ store: SqliteStore; s: Awaited<ReturnType<typeof startImapServer>> }> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-own-append-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open({ directory: dir });
  const s = await startImapServer({ store });
  t.after(async () => {
    await s.close();
    await store.close();
  });
  return { store, s };
}

it('own APPEND: announced without a read, flags normalised, modseq right, \\Deleted known to EXPUNGE', async (t) => {
  const { store, s } = await sqliteServer(t);
  const c = new RawClient(s.port);
  t.after(() => c.destroy());
  await c.login();
  await run(c, 'e', 'ENABLE CONDSTORE');
  await run(c, 's', 'SELECT INBOX');

  // Count the reads of message rows the session makes for the announcement.
  const mail = (await store.open('alice')) as unknown as { records: (...a: unknown[]) => Promise<unknown> };
  const proto = Object.getPrototypeOf(mail) as { records: (...a: unknown[]) => Promise<unknown> };
  const original = proto.records;
  let reads = 0;
  proto.records = function (this: unknown, ...a: unknown[]) {
    reads++;
    return original.apply(this, a);
  };
  t.after(() => {
    proto.records = original;
  });

  // "\seen" and a repeated keyword: stored as "\Seen" and once.
  const appended = await run(c, 'a', `APPEND INBOX (\\seen $Label $label \\Deleted) {${MSG.length}+}\r\n${MSG}`);
  assert.ok(appended.some((l) => l === '* 1 EXISTS'), appended.join('\n'));
  assert.match(appended.at(-1)!, /^a OK \[APPENDUID \d+ 1\]/);
  assert.equal(reads, 0, 'the new message is announced from the append result');

  const fetched = await run(c, 'f', 'FETCH 1 (FLAGS MODSEQ)');
  const line = fetched.find((l) => l.startsWith('* 1 FETCH')) ?? '';
  assert.match(line, /FLAGS \(\\Seen \$Label \\Deleted \\Recent\)/, line);
  const [stored] = (await (await store.open('alice')).records((await (await store.open('alice')).get('INBOX')).id, [1])) as Array<{ modseq: number }>;
  assert.match(line, new RegExp(`MODSEQ \\(${stored!.modseq}\\)`), line);

  // EXPUNGE chooses its candidates by the view's flags: the \Deleted given at APPEND counts.
  const expunged = await run(c, 'x', 'EXPUNGE');
  assert.ok(expunged.includes('* 1 EXPUNGE'), expunged.join('\n'));
});

it('own APPEND: another session changing the new message first still wins', async (t) => {
  const { store, s } = await sqliteServer(t);
  const c = new RawClient(s.port);
  const other = new RawClient(s.port);
  t.after(() => {
    c.destroy();
    other.destroy();
  });
  await c.login();
  await other.login();
  await run(c, 'e', 'ENABLE CONDSTORE');
  await run(c, 's', 'SELECT INBOX');
  await run(other, 's', 'SELECT INBOX');
  // The append is held between its result and the announcement: the other session flags the
  // message in that window.
  const proto = Object.getPrototypeOf(await store.open('alice')) as { append: (...a: unknown[]) => Promise<unknown> };
  const original = proto.append;
  let hold: Promise<void> | undefined;
  proto.append = async function (this: unknown, ...a: unknown[]) {
    const result = await original.apply(this, a);
    await hold;
    return result;
  };
  t.after(() => {
    proto.append = original;
  });
  let release!: () => void;
  hold = new Promise((r) => (release = r));
  c.send(`a APPEND INBOX (\\Seen) {${MSG.length}+}\r\n${MSG}\r\n`);
  for (let i = 0; i < 200; i++) {
    const seen = await run(other, `n${i}`, 'NOOP');
    if (seen.includes('* 1 EXISTS')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await run(other, 'st', 'STORE 1 +FLAGS (\\Flagged)');
  release();
  for (;;) {
    const l = await c.expect(/.*/);
    if (l.startsWith('a ')) {
      assert.match(l, /^a OK/);
      break;
    }
  }
  const fetched = await run(c, 'f', 'FETCH 1 (FLAGS)');
  assert.ok(fetched.some((l) => /^\* 1 FETCH .*FLAGS \(\\Seen \\Flagged \\Recent\)/.test(l)), fetched.join('\n'));
});

/**
 * A mailbox the store marks read-only (MailboxInfo.readOnly, an archive): IMAP opens it read-only
 * even on SELECT, never sets \Seen, and refuses every change with NO [NOPERM]; POP3 serves such an
 * INBOX, refuses DELE, and its QUIT succeeds without deleting or flagging anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StoreError } from '../../src/store/errors.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { RawPop3 } from './pop3/raw-client.js';
import { tinyAuthenticator } from './pop3/fixtures.js';

const message = (n: number): string => `From: a${n}@example.org\r\nSubject: archived ${n}\r\n\r\nbody ${n}\r\n`;

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const mail = await store.open('alice');
  const archive = await mail.create('Archive');
  await mail.create('Work');
  const inbox = await mail.get('INBOX');
  for (const n of [1, 2]) await mail.append(archive.id, { content: Buffer.from(message(n)), flags: n === 2 ? ['\\Deleted'] : [] });
  for (const n of [1, 2]) await mail.append(inbox.id, { content: Buffer.from(message(n)) });
  await store.setReadOnly('alice', 'Archive');
  return store;
}

const tagged = (lines: string[]): string => lines[lines.length - 1]!;

test('IMAP: SELECT of a read-only mailbox is READ-ONLY; FETCH leaves \\Seen alone; every change is NO [NOPERM]', async (t) => {
  const store = await seeded();
  const server = await startImapServer({ store });
  t.after(() => server.close());
  const c = new RawClient(server.port);
  t.after(() => c.destroy());
  await c.login();

  const select = await run(c, 's1', 'SELECT Archive');
  assert.ok(select.includes('* OK [PERMANENTFLAGS ()] Read-only mailbox'), select.join('\n'));
  assert.match(tagged(select), /^s1 OK \[READ-ONLY\] SELECT completed/);

  const fetch = await run(c, 'f1', 'FETCH 1 BODY[]');
  assert.match(tagged(fetch), /^f1 OK/);
  assert.ok(!fetch.some((l) => /\\Seen/.test(l)), fetch.join('\n'));
  const flags = await run(c, 'f2', 'FETCH 1 FLAGS');
  // \Recent is only peeked at (as EXAMINE does), never \Seen.
  assert.ok(flags.some((l) => /^\* 1 FETCH \(FLAGS \((\\Recent)?\)\)$/.test(l)), flags.join('\n'));

  assert.match(tagged(await run(c, 'c1', 'STORE 1 +FLAGS (\\Seen)')), /^c1 NO \[NOPERM\]/);
  assert.match(tagged(await run(c, 'c2', 'EXPUNGE')), /^c2 NO \[NOPERM\]/);
  assert.match(tagged(await run(c, 'c3', 'UID EXPUNGE 2')), /^c3 NO \[NOPERM\]/);
  assert.match(tagged(await run(c, 'c4', 'MOVE 1 Work')), /^c4 NO \[NOPERM\]/);
  // Copying out only reads the archive.
  assert.match(tagged(await run(c, 'c5', 'COPY 1 Work')), /^c5 OK \[COPYUID /);
  // CLOSE on a read-only mailbox removes nothing (message 2 is \Deleted).
  assert.match(tagged(await run(c, 'c6', 'CLOSE')), /^c6 OK/);

  // Into the archive.
  assert.match(tagged(await run(c, 'a1', 'SELECT Work')), /^a1 OK \[READ-WRITE\]/);
  assert.match(tagged(await run(c, 'a2', 'COPY 1 Archive')), /^a2 NO \[NOPERM\]/);
  assert.match(tagged(await run(c, 'a3', 'MOVE 1 Archive')), /^a3 NO \[NOPERM\]/);
  const body = message(9);
  assert.match(tagged(await run(c, 'a4', `APPEND Archive {${body.length}+}\r\n${body}`)), /^a4 NO \[NOPERM\]/);
  // EXAMINE of a writable mailbox keeps its old answer (the session's choice, not a permission).
  assert.match(tagged(await run(c, 'a5', 'EXAMINE Work')), /^a5 OK \[READ-ONLY\]/);
  assert.match(tagged(await run(c, 'a6', 'STORE 1 +FLAGS (\\Seen)')), /^a6 NO Mailbox is read-only/);

  const mail = await store.open('alice');
  const archive = await mail.get('Archive');
  const snap = await mail.snapshot(archive.id);
  assert.deepEqual(
    snap.messages.map((m) => [m.uid, m.flags]),
    [
      [1, []],
      [2, ['\\Deleted']],
    ],
  );
  assert.equal(snap.uidNext, 3);
  assert.equal((await mail.status((await mail.get('Work')).id)).messages, 1);
});

test('MemoryStore refuses changes to a read-only mailbox itself (StoreError noperm), and setReadOnly(false) undoes it', async () => {
  const store = await seeded();
  const mail = await store.open('alice');
  const archive = await mail.get('Archive');
  const work = await mail.get('Work');
  assert.equal(archive.readOnly, true);
  assert.equal(work.readOnly, undefined);
  const noperm = (err: unknown): boolean => err instanceof StoreError && err.kind === 'noperm';
  await assert.rejects(mail.append(archive.id, { content: Buffer.from(message(3)) }), noperm);
  await assert.rejects(mail.updateFlags(archive.id, [1], 'add', ['\\Seen']), noperm);
  await assert.rejects(mail.expunge(archive.id), noperm);
  await assert.rejects(mail.move(archive.id, [1], work.id), noperm);
  await assert.rejects(mail.copy(work.id, [], archive.id), noperm);
  assert.equal((await mail.copy(archive.id, [1], work.id)).mapping.length, 1);
  await store.setReadOnly('alice', 'Archive', false);
  assert.equal((await mail.get('Archive')).readOnly, undefined);
  assert.equal((await mail.expunge(archive.id)).length, 1);
});

test('POP3: a read-only INBOX is served; DELE is refused; QUIT succeeds and neither deletes nor sets \\Seen', async (t) => {
  const store = await seeded();
  await store.setReadOnly('alice', 'INBOX');
  const pop3 = createPop3Server({
    store,
    auth: tinyAuthenticator({ alice: 'pw' }),
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
    limits: { authFailureDelaySeconds: 0 },
  });
  const { port } = await pop3.listen();
  t.after(() => pop3.close());
  const c = await RawPop3.connect(port!);
  await c.greeting;
  await c.cmd('USER alice');
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  assert.match(await c.cmd('STAT'), /^\+OK 2 /);
  assert.match(await c.cmd('RETR 1'), /^\+OK/);
  assert.ok((await c.multi()).includes('body 1'));
  assert.match(await c.cmd('DELE 2'), /^-ERR .*read-only/);
  assert.match(await c.cmd('QUIT'), /^\+OK/);

  const mail = await store.open('alice');
  const snap = await mail.snapshot((await mail.get('INBOX')).id);
  assert.deepEqual(
    snap.messages.map((m) => [m.uid, m.flags]),
    [
      [1, []],
      [2, []],
    ],
  );
});

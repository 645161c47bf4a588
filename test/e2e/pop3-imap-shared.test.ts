/**
 * IMAP and POP3 on one MailStore see each other's changes: a POP3 DELE + QUIT reaches a selected
 * IMAP session as EXPUNGE, and an IMAP APPEND shows up in the next POP3 session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { createImapServer } from '../../src/imap/server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { RawPop3 } from './pop3/raw-client.js';
import { tinyAuthenticator } from './pop3/fixtures.js';

const msg = (n: number): string => `From: f${n}@example.org\r\nSubject: shared ${n}\r\n\r\nbody ${n}\r\n`;

test('POP3 DELE + QUIT is an EXPUNGE for IMAP; IMAP APPEND appears in the next POP3 session', async (t) => {
  const store = new MemoryStore();
  const auth = tinyAuthenticator({ frank: 'pw' });
  const imap = createImapServer({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true });
  const pop3 = createPop3Server({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true, limits: { authFailureDelaySeconds: 0 } });
  const { port: imapPort } = await imap.listen();
  const { port: pop3Port } = await pop3.listen();
  t.after(async () => {
    await pop3.close();
    await imap.close();
    await store.close();
  });

  const client = new ImapFlow({
    host: '127.0.0.1',
    port: imapPort!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'frank', pass: 'pw' },
    logger: false,
  });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  for (let n = 1; n <= 3; n++) await client.append('INBOX', msg(n));
  const lock = await client.getMailboxLock('INBOX');
  t.after(() => lock.release());
  const expunged: number[] = [];
  client.on('expunge', (data) => expunged.push(data.seq ?? -1));

  // Message 2 over POP3.
  const c = await RawPop3.connect(pop3Port!);
  await c.greeting;
  await c.cmd('USER frank');
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  assert.match(await c.cmd('STAT'), /^\+OK 3 /);
  assert.match(await c.cmd('DELE 2'), /^\+OK/);
  await client.noop();
  assert.deepEqual(expunged, [], 'nothing happens before QUIT');
  assert.match(await c.cmd('QUIT'), /^\+OK/);
  await c.waitClosed();

  for (let i = 0; i < 20 && expunged.length === 0; i++) await client.noop();
  assert.deepEqual(expunged, [2]);
  const left: string[] = [];
  for await (const m of client.fetch('1:*', { envelope: true })) left.push(m.envelope?.subject ?? '');
  assert.deepEqual(left, ['shared 1', 'shared 3']);

  // A message appended over IMAP is in the next POP3 session, with a fresh UIDL.
  await client.append('INBOX', msg(4));
  const d = await RawPop3.connect(pop3Port!);
  await d.greeting;
  await d.cmd('USER frank');
  await d.cmd('PASS pw');
  assert.match(await d.cmd('STAT'), /^\+OK 3 /);
  assert.match(await d.cmd('TOP 3 0'), /^\+OK/);
  assert.ok((await d.multi()).includes('Subject: shared 4'));
  await d.cmd('UIDL');
  const uidls = (await d.multi()).map((l) => l.split(' ')[1]);
  assert.equal(new Set(uidls).size, 3);
  await d.cmd('QUIT');
});

/**
 * A store that gives a selected mailbox a new UIDVALIDITY (its `uidvalidity` change): every UID the
 * session holds may now name another message, and RFC 3501 gives a selected session no way to be
 * told but a new SELECT. As Dovecot does, the session ends with `* BYE Mailbox UIDVALIDITY changed`
 * (at once when idle or in IDLE, after the tagged reply of a command in flight); the client
 * reconnects and sees the new UIDVALIDITY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { createImapServer } from '../../src/imap/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { tinyAuthenticator } from './pop3/fixtures.js';

const msg = (n: number): string => `From: f@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;

async function setup(t: import('node:test').TestContext) {
  const store = new MemoryStore();
  const imap = createImapServer({ store, auth: tinyAuthenticator({ alice: 'secret' }), port: 0, tlsPort: null, allowInsecureAuth: true, limits: { idleHibernateSeconds: 0 } });
  const { port } = await imap.listen();
  t.after(async () => {
    await imap.close();
    await store.close();
  });
  const mail = await store.open('alice');
  const inbox = await mail.get('INBOX');
  for (let n = 1; n <= 3; n++) await mail.append(inbox.id, { content: Buffer.from(msg(n)) });
  await mail.expunge(inbox.id, []);
  await mail.close();
  return { store, port: port! };
}

const connect = async (port: number) => {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
  await client.connect();
  return client;
};

test('imapflow in IDLE sees the connection end when UIDVALIDITY changes, and a new session the new value', async (t) => {
  const { store, port } = await setup(t);
  const client = await connect(port);
  const before = await client.mailboxOpen('INBOX');
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const idling = client.idle().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100)); // IDLE is running
  const next = store.resetUidValidity('alice', 'INBOX');
  assert.ok(next > Number(before.uidValidity));
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('imapflow was not disconnected')), 5000))]);
  await idling;

  const again = await connect(port);
  t.after(() => again.logout().catch(() => undefined));
  const box = await again.mailboxOpen('INBOX');
  assert.equal(Number(box.uidValidity), next);
  const uids: number[] = [];
  for await (const m of again.fetch('1:*', { uid: true })) uids.push(m.uid);
  assert.deepEqual(uids, [1, 2, 3]);
});

test('the BYE names the reason; a session that selected another mailbox is not affected', async (t) => {
  const { store, port } = await setup(t);
  const a = new RawClient(port);
  const b = new RawClient(port);
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  for (const c of [a, b]) {
    await c.expect(/^\* OK/);
    c.send('L LOGIN alice secret\r\n');
    await c.expect(/^L OK/);
  }
  await run(a, 'S', 'SELECT INBOX');
  await run(b, 'C', 'CREATE Other');
  await run(b, 'S', 'SELECT Other');
  store.resetUidValidity('alice', 'INBOX');
  await a.expect(/^\* BYE Mailbox UIDVALIDITY changed/);
  await a.waitClosed();
  const noop = await run(b, 'N', 'NOOP');
  assert.match(noop.at(-1)!, /^N OK/);
  assert.ok(!b.closed);
});

/**
 * postroom/testing, used as a client developer would: an imapflow suite against startTestServer()
 * exercising every fault the kit offers — imapflow must see the dropped connection, the
 * UIDVALIDITY change, the delayed response, the injected NO/BAD/BYE, another client's expunge and
 * flag change, refused logins — plus preloading, deliver/waitFor, reset, IMAPS and short autologout.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startTestServer, type TestServer } from '../../src/testing/index.js';

const eml = (n: number) => `From: sender@example.org\r\nTo: alice@example.org\r\nSubject: preloaded ${n}\r\n\r\nbody ${n}\r\n`;
const folder = mkdtempSync(join(tmpdir(), 'postroom-kit-'));
writeFileSync(join(folder, 'a.eml'), eml(2));
writeFileSync(join(folder, 'b.eml'), eml(3).replace(/\r\n/g, '\n')); // as files often are

function client(server: TestServer, extra: Record<string, unknown> = {}): ImapFlow {
  return new ImapFlow({ host: server.host, port: server.imapPort!, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'pw' }, logger: false, ...extra });
}
const closedOf = (c: ImapFlow) => new Promise<void>((resolve) => c.once('close', () => resolve()));
const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);

describe('postroom/testing with imapflow', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ users: { alice: 'pw', bob: 'pw' }, messages: { alice: [eml(1), ...[{ path: join(folder, 'a.eml') }]], bob: folder }, imaps: true });
  });
  after(async () => {
    await server.close({ force: true });
    rmSync(folder, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  it('preloads strings, .eml files and folders (normalised to CRLF); deliver() is seen by waitFor and by a client', async () => {
    assert.equal((await server.waitFor({ user: 'alice', count: 2 })).length, 2);
    const bobs = await server.waitFor({ user: 'bob', count: 2 });
    const c = client(server, { auth: { user: 'bob', pass: 'pw' } });
    await c.connect();
    await c.mailboxOpen('INBOX');
    for await (const m of c.fetch('1:*', { size: true, source: true })) assert.equal(m.source!.length, m.size);
    await c.logout();
    assert.equal(bobs.length, 2);
    await server.deliver('alice', 'Subject: new\r\n\r\nnew\r\n', { mailbox: 'Later', flags: ['\\Flagged'] });
    const later = await server.waitFor({ user: 'alice', mailbox: 'Later', predicate: (ms) => ms.some((m) => m.flags.includes('\\Flagged')) });
    assert.equal(later.length, 1);
  });

  it('drop after N commands: imapflow sees the connection close', async () => {
    const c = client(server);
    await c.connect();
    const closed = closedOf(c);
    server.faults.add({ command: 'NOOP', action: { type: 'drop' }, times: 1 });
    await c.noop().catch(() => undefined);
    await within(5000, 'close', closed);
  });

  it('a matching command answered NO, BAD or BYE', async () => {
    const c = client(server);
    await c.connect();
    server.faults.add({ command: 'SELECT', action: { type: 'reply', status: 'NO', text: 'Try later' }, times: 1 });
    await assert.rejects(c.mailboxOpen('INBOX'));
    server.faults.add({ command: 'CREATE', action: { type: 'reply', status: 'BAD' }, times: 1 });
    await assert.rejects(c.mailboxCreate('Box'));
    const closed = closedOf(c);
    server.faults.add({ command: 'NOOP', action: { type: 'reply', status: 'BYE', text: 'Going away' } });
    await c.noop().catch(() => undefined);
    await within(5000, 'close after BYE', closed);
  });

  it('a delayed response arrives late but intact', async () => {
    const c = client(server);
    await c.connect();
    server.faults.add({ command: 'STATUS', action: { type: 'delay', ms: [300, 400] } });
    const t0 = Date.now();
    const status = await c.status('INBOX', { messages: true });
    assert.ok(Date.now() - t0 >= 290, 'the answer waited');
    assert.equal(status.messages, 2);
    await c.logout();
  });

  it('a UIDVALIDITY change ends the selected session; reconnecting sees the new value', async () => {
    const c = client(server);
    await c.connect();
    const before = await c.mailboxOpen('INBOX');
    const closed = closedOf(c);
    const next = server.faults.changeUidValidity('alice');
    await within(5000, 'close on UIDVALIDITY change', closed);
    const again = client(server);
    await again.connect();
    assert.equal(Number((await again.mailboxOpen('INBOX')).uidValidity), next);
    assert.notEqual(Number(before.uidValidity), next);
    await again.logout();
  });

  it('another client expunges and changes flags at a chosen moment (when the client sends NOOP)', async () => {
    const c = client(server);
    await c.connect();
    await c.mailboxOpen('INBOX');
    const [first, second] = (await server.waitFor({ user: 'alice', count: 2 })).map((m) => m.uid);
    const expunged: number[] = [];
    const flagged: number[] = [];
    c.on('expunge', (e) => expunged.push(e.seq ?? -1));
    c.on('flags', (e) => flagged.push(e.uid ?? e.seq));
    server.faults.add({
      command: 'NOOP',
      times: 1,
      action: { type: 'run', fn: async () => { await server.faults.setFlags('alice', 'INBOX', [second!], 'add', ['\\Seen']); await server.faults.expunge('alice', 'INBOX', [first!]); } },
    });
    await c.noop();
    for (let i = 0; i < 20 && expunged.length === 0; i++) await c.noop();
    assert.deepEqual(expunged, [1]);
    assert.ok(flagged.length >= 1, 'the flag change was reported');
    await c.logout();
  });

  it('refused logins, then accepted again', async () => {
    server.faults.refuseLogins();
    await assert.rejects(client(server).connect());
    server.faults.refuseLogins(false);
    const c = client(server);
    await c.connect();
    await c.logout();
  });

  it('slow large literals: imapflow gets the message at the set rate, intact, and at full speed once removed', async () => {
    const big = `Subject: big\r\n\r\n${'0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n'.repeat(4000)}`;
    const { uid } = await server.deliver('alice', big);
    const size = Buffer.byteLength(big);
    const c = client(server);
    await c.connect();
    await c.mailboxOpen('INBOX');
    const only = server.imap.connections().find((x) => x.user === 'alice')!.id;
    const remove = server.faults.slowLiterals({ bytesPerSecond: 100_000, connection: only });
    const t0 = Date.now();
    // FETCH BODY[] of the whole message: one literal of ~296 KB, sent at 100 KB/s.
    const slowly = await c.fetchOne(String(uid), { source: true }, { uid: true });
    const took = Date.now() - t0;
    assert.ok(slowly && slowly.source);
    assert.equal(slowly.source.toString(), big);
    // About three seconds; slower is fine on a busy machine, faster means it was not slowed.
    assert.ok(took >= (size / 100_000) * 1000 * 0.9, `${size} bytes came in ${took} ms`);
    remove();
    const fast = await c.fetchOne(String(uid), { source: true }, { uid: true });
    assert.ok(fast && fast.source);
    assert.equal(fast.source.length, size);
    await c.logout();
  });


  it('implicit TLS with the generated certificate', async () => {
    const c = new ImapFlow({ host: server.host, port: server.imapsPort!, secure: true, auth: { user: 'alice', pass: 'pw' }, logger: false, tls: { ca: [server.certificate.cert] } as never });
    await c.connect();
    assert.equal((await c.status('INBOX', { messages: true })).messages, 2);
    await c.logout();
  });
});

it('short autologout is allowed in the kit: an idle logged-in client is logged out', async () => {
  const server = await startTestServer({ users: { alice: 'pw' }, authIdleSeconds: 1 });
  try {
    const c = client(server);
    await c.connect();
    await within(8000, 'autologout', closedOf(c));
  } finally {
    await server.close({ force: true });
  }
});

/**
 * postroom/testing: the parts of the kit list the imapflow suite does not reach — POP3 on
 * the same mail (Python poplib reads the preloaded messages), Buffers as messages, STARTTLS with
 * the generated certificate verified by the client, a drop after N commands (`afterCommands`,
 * whatever the command) and a rule scoped to one connection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { startTestServer, type TestServer } from '../../src/testing/index.js';

const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);

function poplibRead(port: number): Promise<{ stat: string; first: string }> {
  const script = `
import json, poplib
p = poplib.POP3('127.0.0.1', ${port}, timeout=20)
p.user('alice'); p.pass_('pw')
stat = str(p.stat())
first = b'\\n'.join(p.retr(1)[1]).decode()
p.quit()
print(json.dumps({'stat': stat, 'first': first}))
`;
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { stat: string; first: string })));
  });
}

describe('postroom/testing options', () => {
  let server: TestServer;
  const fromString = 'Subject: from a string\r\n\r\ntext\r\n';
  const fromBuffer = Buffer.from('Subject: from a Buffer\r\n\r\nbytes\r\n');
  before(async () => {
    server = await startTestServer({ users: { alice: 'pw' }, messages: { alice: [fromString, fromBuffer] }, pop3: true });
  });
  after(() => server.close({ force: true }));

  it('POP3 on the same mail: poplib lists and retrieves the preloaded messages (a Buffer among them)', async () => {
    assert.ok(server.pop3Port);
    const out = await poplibRead(server.pop3Port);
    assert.equal(out.stat, `(2, ${Buffer.byteLength(fromString) + fromBuffer.length})`);
    assert.match(out.first, /Subject: from a string/);
    const records = await server.waitFor({ user: 'alice', count: 2 });
    assert.equal(records[1]!.size, fromBuffer.length);
  });

  it('STARTTLS on the plain port with the generated certificate, verified by imapflow', async () => {
    const c = new ImapFlow({ host: 'localhost', port: server.imapPort!, secure: false, doSTARTTLS: true, auth: { user: 'alice', pass: 'pw' }, logger: false, tls: { ca: [server.certificate.cert], servername: 'localhost' } as never });
    await c.connect();
    assert.equal(c.secureConnection, true);
    await c.logout();
  });

  it('afterCommands drops a connection at its n-th command whatever it is; a rule for one connection leaves the others alone', async () => {
    const a = new ImapFlow({ host: server.host, port: server.imapPort!, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'pw' }, logger: false });
    const b = new ImapFlow({ host: server.host, port: server.imapPort!, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'pw' }, logger: false });
    await a.connect();
    const ids = new Set(server.imap.connections().map((x) => x.id));
    await b.connect();
    const bId = server.imap.connections().find((x) => !ids.has(x.id))!.id;
    const aClosed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    const bClosed = new Promise<void>((resolve) => b.once('close', () => resolve()));
    // b's commands so far: CAPABILITY/ID/LOGIN…; from its 8th on it is dropped, a never.
    server.faults.add({ connection: bId, afterCommands: 8, action: { type: 'drop' } });
    let answered = 0;
    for (let i = 0; i < 12; i++) {
      try {
        await b.noop();
        answered++;
      } catch {
        break;
      }
      if (!b.usable) break;
    }
    await within(5000, 'b closed', bClosed);
    assert.ok(answered >= 1 && answered < 12, `b answered ${answered} NOOPs before the drop`);
    await a.noop();
    await a.mailboxOpen('INBOX');
    assert.equal(a.usable, true);
    await a.logout();
    await within(5000, 'a closed after logout', aClosed);
    server.faults.clear();
  });
});

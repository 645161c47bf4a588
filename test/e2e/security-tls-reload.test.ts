/**
 * TLS policy: TLS 1.1 is refused by default; setTls() (what SIGHUP calls) gives new handshakes the
 * new certificate while a session opened before keeps working — IMAP and POP3.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { startImapServer } from '../helpers/imap-server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { testCertificate } from '../helpers/certs.js';
import { RawClient } from '../helpers/raw-client.js';

async function otherCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'renewed.example' }], { keyType: 'ec', algorithm: 'sha256' } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}

function peerName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(String(cn));
    });
    s.on('error', reject);
  });
}

it('refuses TLS 1.1 by default', async (t) => {
  const s = await startImapServer();
  t.after(() => s.close());
  await assert.rejects(
    new Promise((resolve, reject) => {
      const c = tls.connect({ port: s.tlsPort, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () => resolve(c));
      c.on('error', reject);
    }),
  );
  assert.equal(await peerName(s.tlsPort), 'localhost');
});

it('IMAP setTls: new handshakes get the new certificate, an open session keeps going', async (t) => {
  const s = await startImapServer();
  t.after(() => s.close());
  const before = new RawClient(s.tlsPort, { tls: true });
  await before.expect(/^\* OK/);
  const plain = new RawClient(s.port);
  await plain.expect(/^\* OK/);
  s.server.setTls(await otherCertificate());
  assert.equal(await peerName(s.tlsPort), 'renewed.example');
  plain.send('s STARTTLS\r\n');
  await plain.expect(/^s OK/);
  await plain.upgrade();
  assert.equal((plain.socket as tls.TLSSocket).getPeerCertificate().subject?.CN, 'renewed.example');
  before.send('n NOOP\r\n');
  await before.expect(/^n OK/);
  assert.throws(() => s.server.setTls({ key: 'not a key', cert: 'not a cert' }));
  assert.equal(await peerName(s.tlsPort), 'renewed.example', 'a broken reload keeps the previous certificate');
  before.destroy();
  plain.destroy();
});

it('POP3 setTls: STLS after the reload uses the new certificate', async (t) => {
  const store = new MemoryStore();
  const server = createPop3Server({ store, auth: new StaticAuthenticator({ alice: 'secret' }), port: 0, tlsPort: null, tls: await testCertificate() });
  const { port } = await server.listen();
  t.after(async () => {
    await server.close();
    await store.close();
  });
  server.setTls(await otherCertificate());
  const c = new RawClient(port!);
  await c.expect(/^\+OK/);
  c.send('STLS\r\n');
  await c.expect(/^\+OK/);
  await c.upgrade();
  assert.equal((c.socket as tls.TLSSocket).getPeerCertificate().subject?.CN, 'renewed.example');
  c.destroy();
});

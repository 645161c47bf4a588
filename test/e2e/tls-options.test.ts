/**
 * TLS options passed through as Node's: `passphrase` for an encrypted key, `ca`, and `SNICallback`
 * choosing a certificate per hostname — for implicit TLS and for STARTTLS alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { createImapServer } from '../../src/imap/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { testCertificate } from '../helpers/certs.js';
import { tinyAuthenticator } from './pop3/fixtures.js';

async function certFor(name: string): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: name }], { keyType: 'ec', algorithm: 'sha256' } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}

const commonName = (s: tls.TLSSocket): string => String(s.getPeerCertificate().subject?.CN);

test('an encrypted key with its passphrase, and per-hostname certificates by SNI, on implicit TLS and STARTTLS', async (t) => {
  const main = await testCertificate();
  const other = await certFor('other.example');
  const encrypted = createPrivateKey(main.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'sesame' }).toString();
  const otherContext = tls.createSecureContext(other);
  const server = createImapServer({
    store: new MemoryStore(),
    auth: tinyAuthenticator({ alice: 'pw' }),
    port: 0,
    tlsPort: 0,
    tls: {
      key: encrypted,
      cert: main.cert,
      passphrase: 'sesame',
      ca: main.cert,
      SNICallback: (name, cb) => cb(null, name === 'other.example' ? otherContext : undefined),
    },
  });
  const { port, tlsPort } = await server.listen();
  t.after(() => server.close({ force: true }));

  const implicit = async (servername: string) => {
    const s = tls.connect({ port: tlsPort!, host: '127.0.0.1', servername, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
    const cn = commonName(s);
    s.destroy();
    return cn;
  };
  assert.equal(await implicit('localhost'), 'localhost');
  assert.equal(await implicit('other.example'), 'other.example');

  const starttls = async (servername: string) => {
    const plain = net.connect(port!, '127.0.0.1');
    let buf = '';
    const waitFor = (re: RegExp) => new Promise<void>((resolve) => {
      const check = () => (re.test(buf) ? (plain.off('data', on), resolve()) : undefined);
      const on = (d: Buffer) => { buf += d.toString('latin1'); check(); };
      plain.on('data', on);
      check();
    });
    await waitFor(/^\* OK/m);
    plain.write('S STARTTLS\r\n');
    await waitFor(/^S OK/m);
    const s = tls.connect({ socket: plain, servername, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
    const cn = commonName(s);
    s.destroy();
    return cn;
  };
  assert.equal(await starttls('other.example'), 'other.example');
  assert.equal(await starttls('localhost'), 'localhost');
});

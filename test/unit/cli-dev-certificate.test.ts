import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ensureDevCertificate } from '../../src/config/dev-certificate.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('generates a localhost certificate once and reuses it', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureDevCertificate(dir);
  assert.equal(first.keyPath, join(dir, 'tls', 'key.pem'));
  assert.equal(first.certPath, join(dir, 'tls', 'cert.pem'));
  assert.equal(await readFile(first.certPath, 'utf8'), first.cert);
  assert.equal((await stat(first.keyPath)).mode & 0o777, 0o600);
  const x509 = new X509Certificate(first.cert);
  assert.match(x509.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(x509.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1/);
  assert.equal(x509.checkHost('localhost'), 'localhost');

  const second = await ensureDevCertificate(dir);
  assert.equal(second.cert, first.cert);
  assert.equal(second.key, first.key);
});

test('regenerates when the key does not match or the files are broken', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureDevCertificate(dir);
  await writeFile(first.certPath, 'not a certificate');
  const second = await ensureDevCertificate(dir);
  assert.notEqual(second.cert, first.cert);

  const other = await ensureDevCertificate(await tempDir(t));
  await writeFile(second.keyPath, other.key);
  const third = await ensureDevCertificate(dir);
  assert.notEqual(third.key, other.key);
  assert.ok(new X509Certificate(third.cert).checkPrivateKey((await import('node:crypto')).createPrivateKey(third.key)));
});

test('a TLS client trusting the certificate can connect to localhost', async (t) => {
  const cert = await ensureDevCertificate(await tempDir(t));
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => s.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const text = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert.cert }, () => {
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
    });
    socket.on('error', reject);
  });
  assert.equal(text, 'hello');
});

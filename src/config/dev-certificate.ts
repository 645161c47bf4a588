/**
 * A self-signed certificate for localhost, so STARTTLS and the implicit-TLS ports work out of the
 * box in development. Generated once into DATA/tls/ and reused; regenerated when missing, unreadable
 * or close to expiry. Clients must be told to accept it (it is signed by nobody).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface DevCertificate {
  /** PEM text. */
  key: string;
  cert: string;
  keyPath: string;
  certPath: string;
}

const VALID_DAYS = 825;
/** Regenerate this long before expiry, so a long-running dev server does not cross the date. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

async function readExisting(keyPath: string, certPath: string): Promise<DevCertificate | null> {
  try {
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return null;
    // A key from another run would fail only at the first TLS handshake; catch it here instead.
    if (!x509.checkPrivateKey(createPrivateKey(key))) return null;
    return { key, cert, keyPath, certPath };
  } catch {
    return null;
  }
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, text, { mode });
  await rename(temp, path);
}

export async function ensureDevCertificate(dataDir: string): Promise<DevCertificate> {
  const dir = join(dataDir, 'tls');
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const existing = await readExisting(keyPath, certPath);
  if (existing) return existing;

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock skew
  const pems = await generate([
    { name: 'commonName', value: 'localhost' },
    { name: 'organizationName', value: 'Postroom development certificate' },
  ], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // Key first: a reader that sees the new certificate must also find its key.
  await writeAtomically(keyPath, pems.private, 0o600);
  await writeAtomically(certPath, pems.cert, 0o644);
  return { key: pems.private, cert: pems.cert, keyPath, certPath };
}

/**
 * One self-signed certificate per test process (generation takes a moment), for TLS tests.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

let cached: Promise<{ key: string; cert: string }> | undefined;

export function testCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= (async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    } as Parameters<typeof generate>[1]);
    return { key: pems.private, cert: pems.cert };
  })();
  return cached;
}

/** The test certificate written as cert.pem and key.pem in `dir` (for servers that read PEM files); their paths. */
export async function testCertificateFiles(dir: string): Promise<{ cert: string; key: string }> {
  const pems = await testCertificate();
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  writeFileSync(files.cert, pems.cert);
  writeFileSync(files.key, pems.key);
  return files;
}

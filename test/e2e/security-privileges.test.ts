/**
 * Privilege drop after binding: a server started as root with `user: 'nobody'` runs as nobody once
 * it listens (checked in /proc), and still serves. Skipped where the test does not run as root.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RawClient } from '../helpers/raw-client.js';

const root = process.getuid?.() === 0;
const linux = process.platform === 'linux';

it('drops to user nobody after binding', { skip: !root || !linux ? 'needs root on Linux' : false }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-priv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = resolve('src');
  const nobody = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('nobody:'))?.split(':');
  if (!nobody) return t.skip('no user nobody');
  const script = join(dir, 'server.mts');
  await writeFile(
    script,
    `import { createImapServer } from ${JSON.stringify(join(src, 'imap/server.ts'))};
import { MemoryStore } from ${JSON.stringify(join(src, 'store/memory/index.ts'))};
import { StaticAuthenticator } from ${JSON.stringify(join(src, 'auth/static-users.ts'))};
const server = createImapServer({ store: new MemoryStore(), auth: new StaticAuthenticator({ alice: 'secret' }),
  host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, user: 'nobody', group: ${Number(nobody[3])} });
const { port } = await server.listen();
console.log(JSON.stringify({ port, pid: process.pid }));
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: resolve('.') });
  t.after(() => child.kill('SIGKILL'));
  const first = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) res(out.split('\n')[0]!);
    });
    child.once('exit', (code) => rej(new Error(`child exited with ${code}`)));
    setTimeout(() => rej(new Error('child did not start')), 20_000).unref();
  });
  const { port, pid } = JSON.parse(first) as { port: number; pid: number };
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
  const gids = /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
  assert.deepEqual(uids?.slice(1), [nobody[2], nobody[2], nobody[2]], 'real, effective and saved uid are nobody');
  assert.deepEqual(gids?.slice(1), [nobody[3], nobody[3], nobody[3]], 'group dropped too');

  const c = new RawClient(port);
  await c.expect(/^\* OK/);
  c.send('a LOGIN alice secret\r\nb NOOP\r\n');
  await c.expect(/^a OK/);
  await c.expect(/^b OK/);
  c.destroy();
  child.kill('SIGTERM');
});

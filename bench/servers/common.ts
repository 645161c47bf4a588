import type { ChildProcess } from 'node:child_process';
/** What both servers under test share: the seeded users and messages, free ports, waiting for a port. */
import net from 'node:net';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';

export const BENCH_TMP = join(process.cwd(), '.bench-tmp');
export const PASSWORD = 'bench-secret';

export interface SeedSpec {
  /** user name → messages in INBOX. Every user also has an Archive folder with ARCHIVE_MESSAGES. */
  users: Record<string, number>;
}

export const ARCHIVE_MESSAGES = 20;

/** The seed of message i of user u's folder: distinct everywhere, so no two bodies are the same. */
export const messageSeed = (userIndex: number, folder: 'INBOX' | 'Archive', i: number): number =>
  3_000_000_000 + userIndex * 1_000_000 + (folder === 'Archive' ? 900_000 : 0) + i;

export const seedKey = (spec: SeedSpec): string =>
  Object.entries(spec.users)
    .map(([u, n]) => `${u}-${n}`)
    .join('_')
    .slice(0, 120);

export function mixedUsers(count: number, messages: number): SeedSpec {
  const users: Record<string, number> = {};
  for (let i = 1; i <= count; i++) users[`user${i}`] = messages;
  return { users };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A seeded folder is built once under .bench-tmp/seed/ and copied for each run (runs change it). */
export async function cachedSeed(name: string, build: (dir: string) => Promise<void>, runDir: string): Promise<void> {
  const cache = join(BENCH_TMP, 'seed', name);
  if (!existsSync(join(cache, '.complete'))) {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`seeding ${name} (cached under ${cache})…\n`);
    await build(cache);
    mkdirSync(join(cache, '.complete'));
  }
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(dirname(runDir), { recursive: true });
  // cp -a keeps owners and mtimes (Dovecot reads a Maildir file's mtime as its internal date).
  execFileSync('cp', ['-a', cache, runDir]);
  rmSync(join(runDir, '.complete'), { recursive: true, force: true });
}

/** Stops a server process the bench started: SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => (clearTimeout(t), resolve()));
    child.kill('SIGTERM');
  });
}

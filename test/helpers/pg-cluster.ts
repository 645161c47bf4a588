/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder, `pg_ctl start` on a
 * free loopback port with its socket in that folder, stopped (by pg_ctl, for this data folder only)
 * when asked. Never the system service. PostgreSQL refuses to run as root, so as root the cluster
 * belongs to the unprivileged `postgres` user the Debian package creates (scripts/install-test-deps.sh).
 *
 * No test imports this directly: test/helpers/postgres.ts hands out databases on one cluster per
 * test run (scripts/run-tests.mjs starts it) or, for a file run on its own, one per process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres — the superuser, trusted on loopback. */
  adminUrl: string;
  port: number;
  dir: string;
  /** Fast shutdown of this cluster, then its folder is removed. Safe to call twice. */
  stop(): void;
  /** Stops the server but keeps the data (fault tests restart it with start()). */
  pause(mode?: 'fast' | 'immediate'): void;
  start(): void;
}

/** The folder holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config comes with libpq-dev; the server package alone has none on PATH.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function runAs(owner: { uid: number; gid: number; name: string } | null, program: string, args: string[]): void {
  const [cmd, argv] = owner ? ['runuser', ['-u', owner.name, '--', program, ...args]] : [program, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${program} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
  }
}

function unprivilegedOwner(): { uid: number; gid: number; name: string } | null {
  if (process.getuid?.() !== 0) return null;
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [name, , uid, gid] = line.split(':');
  if (!name || !uid || !gid) throw new Error('running as root and there is no "postgres" user to run PostgreSQL as');
  return { name, uid: Number(uid), gid: Number(gid) };
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (scripts/install-test-deps.sh installs it)');
  const owner = unprivilegedOwner();
  const dir = mkdtempSync(join(tmpdir(), 'postroom-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  runAs(owner, join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  // Loopback only, the socket in our folder, and no fsync: the tests kill Postroom nodes, never
  // the machine, and PostgreSQL's commits survive a process kill without it.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300`;
  const ctl = (args: string[]): void => runAs(owner, join(bin, 'pg_ctl'), ['-D', data, ...args]);
  let running = false;
  const start = (): void => {
    ctl(['-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    running = true;
  };
  start();
  let removed = false;
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    pause(mode = 'fast') {
      ctl(['-m', mode, '-w', 'stop']);
      running = false;
    },
    stop() {
      if (removed) return;
      removed = true;
      try {
        if (running) ctl(['-m', 'fast', '-w', 'stop']);
      } catch {
        try {
          ctl(['-m', 'immediate', '-w', 'stop']);
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

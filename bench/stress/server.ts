/**
 * The server the stress client talks to: the real `postroom serve` (from source, under tsx) on a
 * fresh SQLite data folder in a temporary directory, on a free loopback port, optionally with
 * `--workers N`. Users stress1…stressN share one password; their hashes are cheap (scrypt N=2^10)
 * because the stress logs in and out all the time, and the connection limits are raised to the
 * run's size through the config file (serve has no flags for them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UserFile } from '../../src/auth/user-file.js';

export const STRESS_PASSWORD = 'stress-secret';
const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface StressServerOptions {
  users: number;
  /** `serve --workers N` (1: a single process). */
  workers?: number;
  /** With workers: `--sqlite-workers` (default the server's, 'forward'). */
  sqliteWorkers?: 'forward' | 'own-store';
  /** Connections the limits must admit (all from 127.0.0.1, many per user). */
  maxConnections: number;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * limits.idleHibernateSeconds: short by default, so the clients' IDLEs (up to 1.5 s) often end
   * in a parked session that wakes to report changes (src/imap/session/hibernation.ts).
   */
  hibernateSeconds?: number;
  /** An implicit-TLS IMAP port too (StressServer.tlsPort), with serve's own self-signed certificate. */
  tls?: boolean;
}

export interface StressServer {
  port: number;
  /** The implicit-TLS port, with StressServerOptions.tls. */
  tlsPort?: number;
  pid: number;
  users: string[];
  /** Lines the server wrote to stderr (its log): errors there are reported with the run. */
  log: string[];
  stop(): Promise<number | null>;
}

export function stressUserName(i: number): string {
  return `stress${i}`;
}

export async function startStressServer(opts: StressServerOptions): Promise<StressServer> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-stress-'));
  const data = join(dir, 'data');
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  const names = Array.from({ length: opts.users }, (_, i) => stressUserName(i + 1));
  for (const name of names) await users.add(name, STRESS_PASSWORD);
  const config = join(dir, 'config.json');
  const max = opts.maxConnections;
  const imapLimits = { maxConnections: max, maxConnectionsPerIp: max, maxConnectionsPerUser: max, idleHibernateSeconds: opts.hibernateSeconds ?? 0.3 };
  await writeFile(config, JSON.stringify({ imapLimits }));
  const args = ['--import', 'tsx', CLI_MAIN, 'serve', '--config', config, '--data', data, '--store', 'sqlite', '--host', '127.0.0.1',
    '--imap-port', 'auto', '--imaps-port', opts.tls ? 'auto' : 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth',
    '--log-level', opts.logLevel ?? 'warn', ...(opts.workers && opts.workers > 1 ? ['--workers', String(opts.workers)] : []),
    ...(opts.sqliteWorkers ? ['--sqlite-workers', opts.sqliteWorkers] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (log.length < 10_000) log.push(line);
  });
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exited = code))));
  let tlsPort: number | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { msg?: string; imapPort?: number; imapsPort?: number | null };
        tlsPort = msg.imapsPort ?? tlsPort;
        if (msg.msg === 'listening' && msg.imapPort) resolve(msg.imapPort);
        else if (msg.msg !== 'listening') log.push(line);
      } catch {
        log.push(line);
      }
    });
    void exit.then((code) => reject(new Error(`postroom serve exited with ${code} before listening: ${log.slice(-5).join(' | ')}`)));
  });
  if (opts.tls && !tlsPort) throw new Error('postroom serve reported no implicit-TLS port');
  return {
    port,
    ...(tlsPort ? { tlsPort } : {}),
    pid: child.pid!,
    users: names,
    log,
    async stop() {
      if (exited === undefined) {
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.kill('SIGTERM');
        await exit;
        clearTimeout(kill);
      }
      await rm(dir, { recursive: true, force: true });
      return exited ?? null;
    },
  };
}

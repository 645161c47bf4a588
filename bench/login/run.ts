/** Forks the login-rate generator processes, splits the logins between them and merges what they count. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { merge, type StatsTable } from '../load/stats.js';
import type { LoginConfig } from './client.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface LoginRunOptions extends LoginConfig {
  /** Generator processes (TLS handshakes cost the client CPU too). */
  workers: number;
}

export interface LoginRunResult {
  table: StatsTable;
  /** From the first login's start to the last one's end (process start-up not included). */
  seconds: number;
}

type Msg = { type: 'ready' } | { type: 'done'; table: StatsTable; startedAt: number; endedAt: number };

export async function runLoginRate(opts: LoginRunOptions): Promise<LoginRunResult> {
  const workers = Math.max(1, Math.min(opts.workers, opts.concurrency, opts.logins.length));
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<Extract<Msg, { type: 'done' }>>[] = [];
  for (let w = 0; w < workers; w++) {
    const cfg: LoginConfig = {
      host: opts.host,
      port: opts.port,
      tls: opts.tls,
      // Round robin, so every worker gets a share of each round's users.
      logins: opts.logins.filter((_, i) => i % workers === w),
      concurrency: Math.floor(opts.concurrency / workers) + (w < opts.concurrency % workers ? 1 : 0),
    };
    const child = fork(WORKER, [JSON.stringify(cfg)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    ready.push(new Promise((resolve) => child.on('message', (m: Msg) => m.type === 'ready' && resolve())));
    done.push(
      new Promise((resolve, reject) => {
        let result: Extract<Msg, { type: 'done' }> | undefined;
        child.on('message', (m: Msg) => m.type === 'done' && (result = m));
        child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`login worker exited with ${code}`))));
      }),
    );
  }
  try {
    // All workers loaded before any starts: the rate counts logins, not tsx start-up.
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    for (const c of children) c.send({ type: 'go' });
    const results = await Promise.all(done);
    const started = Math.min(...results.map((r) => r.startedAt));
    const ended = Math.max(...results.map((r) => r.endedAt));
    return { table: merge(results.map((r) => r.table)), seconds: (ended - started) / 1000 };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Forks the load-generator processes, splits the clients between them and merges what they count. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { merge, type StatsTable } from './stats.js';
import type { LoadConfig } from './scenario.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface LoadOptions extends Omit<LoadConfig, 'clients' | 'firstClient' | 'totalClients'> {
  /** Clients in all. */
  clients: number;
  /** Generator processes. */
  workers: number;
}

export interface LoadResult {
  table: StatsTable;
  seconds: number;
  notified: number;
}

interface Msg {
  type: 'holding' | 'done';
  count?: number;
  table?: StatsTable;
  notified?: number;
}

export class LoadRun {
  private readonly children: ChildProcess[] = [];
  private readonly done: Promise<LoadResult>;
  private readonly holding: Promise<number>;
  private readonly started = performance.now();

  constructor(opts: LoadOptions) {
    const workers = Math.max(1, Math.min(opts.workers, opts.clients));
    const tables: StatsTable[] = [];
    const holdCounts: Promise<number>[] = [];
    const finished: Promise<number>[] = [];
    let first = 0;
    for (let w = 0; w < workers; w++) {
      const clients = Math.floor(opts.clients / workers) + (w < opts.clients % workers ? 1 : 0);
      const cfg: LoadConfig = { ...opts, clients, totalClients: opts.clients, firstClient: first, seed: opts.seed * 16 + w };
      first += clients;
      const child = fork(WORKER, [JSON.stringify(cfg)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.children.push(child);
      holdCounts.push(new Promise((resolve) => child.on('message', (m: Msg) => m.type === 'holding' && resolve(m.count ?? 0))));
      finished.push(
        new Promise((resolve, reject) => {
          let notified = 0;
          child.on('message', (m: Msg) => {
            if (m.type === 'done') {
              tables.push(m.table ?? {});
              notified = m.notified ?? 0;
            }
          });
          child.on('exit', (code) => (code === 0 ? resolve(notified) : reject(new Error(`load worker exited with ${code}`))));
        }),
      );
    }
    this.holding = Promise.all(holdCounts).then((c) => c.reduce((a, b) => a + b, 0));
    this.done = Promise.all(finished).then((n) => ({
      table: merge(tables),
      // Rates are per second of the load window; process start-up is not part of it.
      seconds: opts.scenario === 'idle' ? (performance.now() - this.started) / 1000 : opts.seconds,
      notified: n.reduce((a, b) => a + b, 0),
    }));
    // Rejections surface through result()/whenHolding(); a killed run must not crash the runner.
    this.done.catch(() => undefined);
  }

  /** Idle scenario: resolves with the number of connections sitting in IDLE. */
  whenHolding(): Promise<number> {
    // A worker that dies before holding would otherwise leave this waiting forever.
    return Promise.race([this.holding, this.done.then(() => Promise.reject(new Error('load workers ended before holding')))]);
  }

  stop(): void {
    for (const c of this.children) if (c.connected) c.send({ type: 'stop' });
  }

  result(): Promise<LoadResult> {
    return this.done;
  }

  kill(): void {
    for (const c of this.children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new LoadRun(opts).result();
}

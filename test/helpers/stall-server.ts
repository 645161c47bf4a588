/**
 * A server in a child process whose event-loop stalls a test can measure (issue 13: no single
 * command may hold the loop for long). The child (stall-server-child.ts) seeds its store, serves
 * IMAP (and POP3 when asked) on loopback, and runs the loop-stall meter (loop-stall.ts) between
 * `meter()` and `stop()`; the test drives it over real sockets. Why a child and not the test's own
 * process: node:test's async hook makes garbage collection in the test process pay for every
 * promise the server made (see the child's header), which no production server pays.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoopStall } from './loop-stall.js';
import type { QuotaLimits } from '../../src/store/types.js';

export interface StallServerOptions {
  store: 'sqlite' | 'memory';
  /** Messages seeded into INBOX, per user (alice, bob and carol can log in; password "secret", bob's "hunter2"). */
  seed: Record<string, number>;
  /** Serve POP3 too. */
  pop3?: boolean;
  /** Quota limits set in the store (after the seed), per user. */
  quota?: Record<string, QuotaLimits>;
}

export type StallRequest = { id: number; op: 'meter' | 'stop' | 'purged' | 'close' };
export type StallReply = { id: number; ok: boolean; error?: string; stall?: LoopStall; port?: number; pop3Port?: number | null };

export interface StallServer {
  port: number;
  pop3Port: number | null;
  /** Starts the meter in the server's process. */
  meter(): Promise<void>;
  /** Stops it: the longest stall since meter(). */
  stop(): Promise<LoopStall>;
  /** Resolves when a SQLite store's mailbox purges are done (DELETE's work after its reply). */
  purged(): Promise<void>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./stall-server-child.ts', import.meta.url));

export function startStallServer(options: StallServerOptions, timeoutMs = 300_000): Promise<StallServer> {
  // Not the test process's flags (--test and its hook): only the TypeScript loader.
  const child: ChildProcess = fork(CHILD, [JSON.stringify(options)], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (reply: StallReply) => void>();
  let next = 1;
  child.on('message', (reply: StallReply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    w?.(reply);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const [, w] of waiting) w({ id: -1, ok: false, error: 'the stall server exited' });
    waiting.clear();
  });
  const call = (op: StallRequest['op']): Promise<StallReply> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, (reply) => (reply.ok ? resolve(reply) : reject(new Error(reply.error))));
      child.send({ id, op } satisfies StallRequest);
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the stall server did not start in time'));
    }, timeoutMs);
    waiting.set(0, (ready) => {
      clearTimeout(timer);
      if (!ready.ok) {
        child.kill('SIGKILL');
        return reject(new Error(ready.error));
      }
      resolve({
        port: ready.port!,
        pop3Port: ready.pop3Port ?? null,
        meter: async () => {
          await call('meter');
        },
        stop: async () => (await call('stop')).stall!,
        purged: async () => {
          await call('purged');
        },
        close: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            await call('close').catch(() => undefined);
            child.kill('SIGTERM');
          }
          await exited;
        },
      });
    });
  });
}

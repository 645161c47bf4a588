/**
 * A bounded queue for password hashing on libuv's thread pool.
 *
 * scrypt, PBKDF2 (SCRAM) and Argon2 run as thread-pool jobs, and so do Node's file reads and
 * writes. The pool is first come, first served, with four threads unless UV_THREADPOOL_SIZE says
 * otherwise: a burst of two dozen logins queued two dozen ~100 ms hashes ahead of every file
 * operation, and a 1 MB APPEND (its body is written to a temporary file in pieces) took 7.5 s
 * instead of 17 ms. Here at most `hashingConcurrency()` hashes are on the pool at once — never
 * all of its threads — and further logins wait in this queue, where they take nothing from file
 * I/O. The hashes are CPU work, so more of them at once than there are cores would not finish the
 * burst sooner anyway. (Commits do not depend on the pool at all: the store syncs on its own
 * thread, src/store/sqlite/sync-thread.ts.)
 */
import { availableParallelism } from 'node:os';

/** libuv's pool size, as libuv reads it (1–1024, default 4). */
function poolSize(): number {
  const n = Number.parseInt(process.env['UV_THREADPOOL_SIZE'] ?? '', 10);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}

/**
 * Hashes allowed on the pool at once: one thread is always left for file I/O, and no more hashes
 * run than there are CPUs. Raise UV_THREADPOOL_SIZE to allow more on a machine with many cores.
 */
export function hashingConcurrency(): number {
  return Math.max(1, Math.min(poolSize() - 1, availableParallelism()));
}

let running = 0;
const waiting: Array<() => void> = [];

/** Runs `hash` when a slot is free; hashes start in the order they were asked for. */
export async function withHashingSlot<T>(hash: () => Promise<T>): Promise<T> {
  if (running >= hashingConcurrency()) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await hash();
  } finally {
    const next = waiting.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next();
    else running--;
  }
}

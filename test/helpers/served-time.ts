/**
 * Served time: how long something took less the time this process's main thread spent runnable but
 * not running — waiting for a CPU that other processes held (the kernel's run-queue wait,
 * /proc/self/task/<pid>/schedstat, second field). What is left is the time the thread worked or was
 * blocked (on a disk write, a timer, a reply): what the code under test took, whatever the machine's
 * load. Tests that bound a duration bound this figure; on a loaded 2-core machine the wall time
 * is mostly other processes' (closing 2,000 stalled connections took 18.1 s as seen against a 15 s
 * bound at a load of 20; security-stall.test.ts). A bound on the served figure still fails code
 * that is slow by itself: a quadratic loop, a stretch that holds the event loop, a timer that
 * fires late.
 *
 * It also leaves out waits behind this process's own other threads (the garbage collector's
 * helpers, libuv's pool): not for a test about work on those threads (the login burst's hashes).
 * Where the kernel keeps no schedstat the served figure is the wall one.
 */
import { readFileSync } from 'node:fs';

const schedstat = `/proc/self/task/${process.pid}/schedstat`;

/**
 * Milliseconds this process's main thread has waited on a run queue so far (schedstat's second
 * field, in ns), or null where the kernel does not keep it (then the served figure is the wall one).
 */
export function runQueueWaitMs(): number | null {
  try {
    const ns = Number(readFileSync(schedstat, 'latin1').split(' ')[1]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}

/**
 * A stopwatch started now: `wall()` is the time since, `served()` the same less the main thread's
 * run-queue wait since (see above).
 */
export function servedClock(): { wall(): number; served(): number } {
  const waitedBefore = runQueueWaitMs();
  const started = performance.now();
  const wall = (): number => performance.now() - started;
  return {
    wall,
    served() {
      const elapsed = wall();
      const waitedAfter = runQueueWaitMs();
      const starved = waitedBefore !== null && waitedAfter !== null ? waitedAfter - waitedBefore : 0;
      return Math.max(0, elapsed - starved);
    },
  };
}

/** Times `fn` as seen (wall) and as served (less the main thread's run-queue wait meanwhile). */
export async function servedTime(fn: () => Promise<unknown>): Promise<{ wall: number; served: number }> {
  const clock = servedClock();
  await fn();
  // served() reads the clock first, then the wait: a wait that ends after the clock is read is not subtracted.
  const served = clock.served();
  return { wall: clock.wall(), served };
}

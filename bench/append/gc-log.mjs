/**
 * Preloaded into the server by `bench/append.ts --gc-log FILE` (node --import): every garbage
 * collection of the main thread as one CSV line — wall-clock start (ms since the epoch), duration
 * (ms), kind — written when the process exits, to match against the bench's per-APPEND times.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.POSTROOM_BENCH_GC_LOG;
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const rows = ['start_ms,ms,kind'];
// Preloads run in worker threads too (the store's sync threads): only the main thread logs.
if (file && isMainThread) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) rows.push(`${(performance.timeOrigin + e.startTime).toFixed(3)},${e.duration.toFixed(3)},${KINDS[e.detail?.kind] ?? e.detail?.kind}`);
  }).observe({ entryTypes: ['gc'] });
  const flush = () => writeFileSync(file, `${rows.join('\n')}\n`);
  process.on('exit', flush);
  // serve exits on SIGTERM through its own handler; the exit hook above then runs.
}

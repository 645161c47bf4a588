/**
 * What the process holds alive, for the tests that bound server memory: the JS heap's live objects
 * and the array buffers (every Buffer) that are still referenced, after a full collection.
 *
 * Two readings that are NOT that, and that made these tests fail on a loaded machine:
 *  - `arrayBuffers` right after one gc(): V8 frees dead array buffers on a background thread after
 *    the collection (concurrent array-buffer sweeping), so until that thread runs the figure still
 *    counts them. On a loaded 2-core machine it ran late enough that a FETCH's already-written
 *    60 KiB slices read as 18.9 MB of "growth" in one sample at a load of 10, 0.1 MB in the next
 *    (security-backpressure on PostgreSQL, whose one CI failure read 26 MB against 24); a second
 *    gc() in the same sample read 0.1 MB in each of 20 runs at loads of 9-24. A collection begins
 *    by finishing the previous one's sweep, so the second gc() here makes the figure exact.
 *  - RSS: freed Buffers stay in malloc's arenas and the young generation grows and shrinks with
 *    allocation rate and the memory reducer's timers, so RSS moves by tens of MB with nothing held
 *    (a sample of 250 dead 200 KiB buffers: +48 MB RSS, 0.2 MB live). It is reported, not asserted.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function collector(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  // A file run without --expose-gc (scripts/run-tests.mjs passes it): expose it for a new context.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

let gc: (() => void) | undefined;

/** Heap objects and array buffers still referenced, in bytes, after a full collection. */
export function liveBytes(): number {
  gc ??= collector();
  gc();
  // Begins by finishing the first collection's concurrent array-buffer sweep (see above).
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Cooperative time slicing. Everything a session does runs on the one event loop, so a long
 * synchronous stretch — a command with a thousand literals already buffered, a SEARCH over a large
 * mailbox — holds every other connection for its whole length. Long loops take a TimeSlice and call
 * `pause()` between steps: once the slice has run `ms`, it yields to the event loop (setImmediate,
 * so pending I/O of other connections runs first) and a new slice starts.
 */
export const DEFAULT_SLICE_MS = 2;

export class TimeSlice {
  private started = performance.now();

  constructor(private readonly ms = DEFAULT_SLICE_MS) {}

  /** True once this slice has run its time. */
  get due(): boolean {
    return performance.now() - this.started >= this.ms;
  }

  /** Yields to the event loop if the slice is used up; otherwise resolves at once. */
  async pause(): Promise<void> {
    if (this.due) await this.yieldNow();
  }

  /** Yields to the event loop and starts a new slice. */
  async yieldNow(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }

  /** Starts a new slice without yielding (after waiting for input, the loop has just run). */
  restart(): void {
    this.started = performance.now();
  }
}

/**
 * Work cut into steps as a generator that yields between them: drain() runs it to its end in one
 * go (a synchronous caller), drainInSlices() with `pause` (TimeSlice.pause) at every yield. The
 * same steps in the same order either way, so the result is the same.
 */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs a generator of steps to its end, letting the event loop run between them (`pause`). */
export async function drainInSlices<T>(steps: Generator<void, T>, pause: () => Promise<void>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

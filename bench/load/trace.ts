/**
 * POSTROOM_BENCH_TRACE_DIR=DIR: each load-generator process writes DIR/client-PID.json at its end,
 * every timed command with when it was sent and when its answer was complete, in milliseconds since
 * the epoch (performance.timeOrigin + performance.now(), the clock the server's trace uses too), so
 * bench/tails-join.ts can split a round trip into the way in, the server and the way back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientTraceEntry {
  name: string;
  sent: number;
  /** The tagged line read off the socket. */
  answered: number;
  /** The answer checked (what the bench's latency counts). */
  done: number;
  /** ms this process's event loop was busy from sending to reading the tagged line (not waiting to be scheduled). */
  active: number;
  /** An APPEND's message size in bytes (bench/append-tail.ts splits APPENDs by it). */
  bytes?: number;
}

const dir = process.env.POSTROOM_BENCH_TRACE_DIR;
const entries: ClientTraceEntry[] | undefined = dir ? [] : undefined;

/** Records one command (performance.now() times); does nothing without POSTROOM_BENCH_TRACE_DIR. */
export function traceCommand(name: string, sent: number, answered: number, done: number, active: number, bytes?: number): void {
  const t = performance.timeOrigin;
  entries?.push({ name, sent: t + sent, answered: t + answered, done: t + done, active, ...(bytes !== undefined ? { bytes } : {}) });
}

/** The loop's active ms so far, when tracing (0 otherwise: no cost without POSTROOM_BENCH_TRACE_DIR). */
export const loopActive = (): number => (entries ? performance.eventLoopUtilization().active : 0);

export function writeClientTrace(): void {
  if (dir && entries?.length) writeFileSync(join(dir, `client-${process.pid}.json`), JSON.stringify(entries));
}

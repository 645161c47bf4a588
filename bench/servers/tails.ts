/**
 * POSTROOM_BENCH_TAILS=1 (bench/servers/postroom-main.ts): where a command's latency tail comes
 * from, from timestamps taken inside the server — meant for one client at a time (persistent-1).
 *
 * For every command it keeps, on performance.now()'s clock: when its bytes arrived (the socket's
 * last 'data' event before the command started), when the dispatcher started and finished it, and
 * when its answer was handed to the socket (the first write after it finished). Beside them, every
 * garbage collection, WAL sync and checkpoint, and every stretch the event loop was blocked for
 * more than a millisecond. At exit it prints, per command, the distribution of
 *   queued  = dispatch start − bytes arrived  (the loop was busy with something else)
 *   service = dispatch end − dispatch start   (the command itself, awaits included)
 *   flush   = handed to the socket − dispatch end
 *   server  = the three together (the server's share of the client's round trip)
 * and, for the slowest 1 % of each command by `server`, what overlapped them. With
 * POSTROOM_BENCH_TRACE_DIR it also writes all of it to DIR/server-PID.json (tails-join.ts).
 */
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { ProtocolMetrics, SqliteTimings } from '../../src/metrics/types.js';

export interface Span {
  start: number;
  end: number;
  /** GC spans: PerformanceGCEntry's detail.kind (1 scavenge, 2 mark-compact, 4 incremental marking, 8 weak callbacks). */
  kind?: number;
}

export interface CommandRecord {
  name: string;
  arrived: number;
  start: number;
  end: number;
  flushed: number;
  previous: string;
  /** ms the loop was busy between the previous answer going out and this command's bytes being read. */
  activeBefore: number;
  /** CPU ms the process used from reading the bytes to the end of the command (time it was preempted does not count). */
  cpu: number;
  /**
   * Bytes the V8 heap grew by from reading the bytes to the end of the command: what the command
   * allocated, when no GC ran in between (report() and tails-join leave those out).
   */
  alloc: number;
}

/**
 * The process's CPU time so far, ms (getrusage: every thread, but over a command's milliseconds it is
 * nearly all the main thread's). /proc/thread-self/schedstat would be the main thread alone, but it
 * lags for a running thread (it reads 0 for most commands).
 */
function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export class TailRecorder {
  private lastData = 0;
  /** The loop's active ms (eventLoopUtilization) at the last 'data' event and at the last answer handed out. */
  private lastDataActive = 0;
  private flushActive = 0;
  /** The process's CPU ms at the last 'data' event. */
  private lastDataCpu = 0;
  /** The V8 heap's used bytes at the last 'data' event. */
  private lastDataHeap = 0;
  private readonly commands: CommandRecord[] = [];
  /** Commands finished but not yet written out. */
  private unflushed: CommandRecord[] = [];
  private readonly gc: Span[] = [];
  private readonly walSync: Span[] = [];
  private readonly checkpoint: Span[] = [];
  /** Stretches a checkpoint held the store's writes back. */
  private readonly hold: Span[] = [];
  private readonly blocked: Span[] = [];
  private previous = '';
  /** Flat triples: performance.now(), process CPU ms, loop active ms — one per timer tick. */
  private readonly samples: number[] = [];

  constructor() {
    const recorder = this;
    const emit = net.Socket.prototype.emit;
    net.Socket.prototype.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data') {
        recorder.lastData = performance.now();
        recorder.lastDataActive = performance.eventLoopUtilization().active;
        recorder.lastDataCpu = processCpuMs();
        recorder.lastDataHeap = getHeapStatistics().used_heap_size;
      }
      return (emit as (...a: unknown[]) => boolean).apply(this, [event, ...args]);
    } as typeof emit;
    const write = net.Socket.prototype.write;
    net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]): boolean {
      if (recorder.unflushed.length) {
        const now = performance.now();
        for (const c of recorder.unflushed) c.flushed = now;
        recorder.unflushed = [];
        recorder.flushActive = performance.eventLoopUtilization().active;
      }
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof write;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gc.push({ start: e.startTime, end: e.startTime + e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
    }).observe({ entryTypes: ['gc'] });
    // A 1 ms timer: a late tick is a stretch the loop could not run anything else.
    // Each tick also samples the process's CPU time (all threads) and the loop's active time, so
    // that a window can be told apart: the loop busy (active and CPU grow with it), the process
    // preempted mid-work (active grows, CPU does not), or the loop waiting to be scheduled (neither).
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last > 2) this.blocked.push({ start: last + 1, end: now });
      last = now;
      const cpu = process.cpuUsage();
      this.samples.push(now, (cpu.user + cpu.system) / 1000, performance.eventLoopUtilization().active);
    }, 1).unref();
  }

  readonly metrics: ProtocolMetrics = {
    connectionOpened() {},
    connectionRefused() {},
    command: (name, _result, seconds) => {
      const end = performance.now();
      const start = end - seconds * 1000;
      const rec: CommandRecord = { name, arrived: Math.min(this.lastData, start), start, end, flushed: Number.NaN, previous: this.previous, activeBefore: this.lastDataActive - this.flushActive, cpu: processCpuMs() - this.lastDataCpu, alloc: getHeapStatistics().used_heap_size - this.lastDataHeap };
      this.previous = name;
      this.commands.push(rec);
      this.unflushed.push(rec);
    },
    login() {},
    bytesIn() {},
    bytesOut() {},
    tlsHandshake() {},
  };

  readonly timings: SqliteTimings = {
    walSync: (seconds) => {
      const end = performance.now();
      this.walSync.push({ start: end - seconds * 1000, end });
    },
    checkpoint: (seconds) => {
      const end = performance.now();
      this.checkpoint.push({ start: end - seconds * 1000, end });
    },
    writesHeld: (seconds) => {
      const end = performance.now();
      this.hold.push({ start: end - seconds * 1000, end });
    },
  };

  /** Everything recorded, on the epoch clock (ms), for bench/tails-join.ts. */
  trace(): object {
    const t = performance.timeOrigin;
    const spans = (xs: Span[]): Span[] => xs.map((x) => ({ ...x, start: x.start + t, end: x.end + t }));
    // One instant on both clocks: V8's CPU profiles stamp samples in µs of CLOCK_MONOTONIC (as
    // process.hrtime does), the trace in epoch ms; bench/tails-profile.ts maps one onto the other.
    const clock = { epochMs: t + performance.now(), monoUs: Number(process.hrtime.bigint() / 1000n) };
    return {
      clock,
      commands: this.commands.map((c) => ({ ...c, arrived: c.arrived + t, start: c.start + t, end: c.end + t, flushed: c.flushed + t })),
      gc: spans(this.gc),
      walSync: spans(this.walSync),
      checkpoint: spans(this.checkpoint),
      hold: spans(this.hold),
      blocked: spans(this.blocked),
      samples: this.samples.map((v, i) => (i % 3 === 0 ? v + t : v)),
    };
  }

  /** CPU seconds since the process started (/proc/self/task): the main thread, and the busiest others by name and id. */
  static threadCpu(): string {
    const ticks = 100; // USER_HZ
    const byName = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const fields = stat.slice(close + 2).split(' ');
        const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
        byName.set(Number(tid) === process.pid ? 'main thread' : `${name}/${tid}`, cpu);
      } catch {
        // The thread ended meanwhile.
      }
    }
    return [...byName.entries()].sort((a, b) => b[1] - a[1]).filter(([, c]) => c > 0).map(([n, c]) => `${n} ${c.toFixed(2)} s`).join(', ');
  }

  report(): string {
    const lines: string[] = [`tails: CPU per thread: ${TailRecorder.threadCpu()}`];
    const f = (n: number): string => n.toFixed(2);
    const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
    const byName = new Map<string, CommandRecord[]>();
    for (const c of this.commands) {
      if (!Number.isFinite(c.flushed)) continue;
      let list = byName.get(c.name);
      if (!list) byName.set(c.name, (list = []));
      list.push(c);
    }
    const overlaps = (spans: Span[], a: number, b: number): number => {
      let ms = 0;
      for (const s of spans) if (s.end > a && s.start < b) ms += Math.min(s.end, b) - Math.max(s.start, a);
      return ms;
    };
    const total = (spans: Span[]): number => spans.reduce((n, s) => n + s.end - s.start, 0);
    lines.push(
      `tails: ${this.commands.length} commands; GC ${this.gc.length} (${f(total(this.gc))} ms); WAL syncs ${this.walSync.length}; ` +
        `checkpoints ${this.checkpoint.length} (${f(total(this.checkpoint))} ms); loop blocked > 2 ms ${this.blocked.length} times (${f(total(this.blocked))} ms)`,
    );
    lines.push('tails: command | n | queued p50/p99 | service p50/p99 | flush p50/p99 | server p50/p99 ms | process CPU read→end p50/p99 | heap KB allocated read→end p50 (no GC between) | slowest 1 %: n, overlapped GC / checkpoint / WAL sync / blocked loop (count), after (count)');
    for (const [name, list] of [...byName.entries()].sort()) {
      const part = (fn: (c: CommandRecord) => number): string => {
        const xs = list.map(fn).sort((a, b) => a - b);
        return `${f(q(xs, 0.5))}/${f(q(xs, 0.99))}`;
      };
      const server = (c: CommandRecord): number => c.flushed - c.arrived;
      const allocs = list.filter((c) => overlaps(this.gc, c.arrived, c.end) === 0).map((c) => c.alloc).sort((a, b) => a - b);
      const sorted = [...list].sort((a, b) => server(b) - server(a));
      const slow = sorted.slice(0, Math.max(1, Math.ceil(list.length / 100)));
      const count = (spans: Span[]): number => slow.filter((c) => overlaps(spans, c.arrived, c.flushed) > 0).length;
      const after = new Map<string, number>();
      for (const c of slow) after.set(c.previous, (after.get(c.previous) ?? 0) + 1);
      const afterText = [...after.entries()].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p || '-'}×${n}`).join(' ');
      lines.push(
        `tails: ${name} | ${list.length} | ${part((c) => c.start - c.arrived)} | ${part((c) => c.end - c.start)} | ${part((c) => c.flushed - c.end)} | ${part(server)} | ${part((c) => c.cpu)} | ${(q(allocs, 0.5) / 1024).toFixed(1)} | ` +
          `${slow.length}: ${count(this.gc)} / ${count(this.checkpoint)} / ${count(this.walSync)} / ${count(this.blocked)}; after ${afterText}`,
      );
    }
    return lines.join('\n');
  }
}

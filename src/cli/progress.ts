/**
 * Progress of long commands on standard error: a bar on a terminal (cli-progress), and otherwise —
 * a pipe, a log file, cron — a plain line at the start, every few seconds and at the end, so a log
 * shows how far a long import got without being flooded.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted: "messages", "bytes"… */
  unit: string;
  /** What runs, at the start of each plain line: "import". */
  label: string;
  /** False: nothing at all (--no-progress). */
  enabled: boolean;
  /** Seconds between plain lines (default 5). */
  intervalSeconds?: number;
  stream?: NodeJS.WriteStream;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({ format: ` {bar} {percentage}% | {value}/{total} ${options.unit} {detail}`, stream }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(done, total, detail = '') {
        if (!started) bar.start(total, done, { detail });
        else bar.update(done, { detail });
        bar.setTotal(total);
        started = true;
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  const intervalMs = (options.intervalSeconds ?? 5) * 1000;
  type Point = { done: number; total: number; detail: string };
  let last: Point | null = null as Point | null;
  let printedAt = 0;
  let printed: Point | null = null as Point | null;
  const print = (): void => {
    const p = last;
    if (!p || (printed && printed.done === p.done && printed.total === p.total)) return;
    const pct = p.total > 0 ? ` (${Math.floor((p.done / p.total) * 100)}%)` : '';
    stream.write(`${options.label}: ${p.done}/${p.total} ${options.unit}${pct}${p.detail ? `, ${p.detail}` : ''}\n`);
    printed = p;
    printedAt = Date.now();
  };
  return {
    update(done, total, detail = '') {
      last = { done, total, detail };
      if (printed === null || Date.now() - printedAt >= intervalMs) print();
    },
    stop: print,
  };
}

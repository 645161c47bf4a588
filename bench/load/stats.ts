/**
 * Per-command counters with a log-bucketed latency histogram (2% wide buckets), so workers can send
 * compact summaries to the parent and p50/p99 stay accurate to about 2% without keeping samples.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Latencies are recorded in microseconds; bucket 0 holds everything at or below 1 µs. */
const bucketOf = (us: number): number => (us <= 1 ? 0 : Math.ceil(Math.log(us) / LOG_GROWTH));
const upperOf = (bucket: number): number => GROWTH ** bucket;

export interface CommandStats {
  ok: number;
  errors: number;
  /** bucket index → count */
  hist: Record<number, number>;
  totalUs: number;
  /** The first few distinct error messages, for the report. */
  samples: string[];
}

export type StatsTable = Record<string, CommandStats>;

export class Recorder {
  readonly table: StatsTable = {};

  private entry(cmd: string): CommandStats {
    return (this.table[cmd] ??= { ok: 0, errors: 0, hist: {}, totalUs: 0, samples: [] });
  }

  ok(cmd: string, ms: number): void {
    const e = this.entry(cmd);
    const us = ms * 1000;
    e.ok++;
    e.totalUs += us;
    const b = bucketOf(us);
    e.hist[b] = (e.hist[b] ?? 0) + 1;
  }

  error(cmd: string, message: string): void {
    const e = this.entry(cmd);
    e.errors++;
    if (e.samples.length < 3 && !e.samples.includes(message)) e.samples.push(message.slice(0, 200));
  }
}

export function merge(tables: StatsTable[]): StatsTable {
  const out: StatsTable = {};
  for (const t of tables) {
    for (const [cmd, s] of Object.entries(t)) {
      const e = (out[cmd] ??= { ok: 0, errors: 0, hist: {}, totalUs: 0, samples: [] });
      e.ok += s.ok;
      e.errors += s.errors;
      e.totalUs += s.totalUs;
      for (const [b, n] of Object.entries(s.hist)) e.hist[Number(b)] = (e.hist[Number(b)] ?? 0) + n;
      for (const m of s.samples) if (e.samples.length < 3 && !e.samples.includes(m)) e.samples.push(m);
    }
  }
  return out;
}

/** The latency (ms) below which `q` of the successful commands finished. */
export function percentile(s: CommandStats, q: number): number {
  const buckets = Object.keys(s.hist).map(Number).sort((a, b) => a - b);
  const want = Math.max(1, Math.ceil(q * s.ok));
  let seen = 0;
  for (const b of buckets) {
    seen += s.hist[b]!;
    if (seen >= want) return upperOf(b) / 1000;
  }
  return Number.NaN;
}

export function totals(t: StatsTable): { ok: number; errors: number } {
  let ok = 0;
  let errors = 0;
  for (const s of Object.values(t)) {
    ok += s.ok;
    errors += s.errors;
  }
  return { ok, errors };
}

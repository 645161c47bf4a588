/**
 * Counter and histogram families kept in plain numbers, handed to prom-client's registry only
 * when /metrics is scraped.
 *
 * Why not prom-client's own Counter and Histogram on the hot paths: each of their `inc()` and
 * `observe()` calls checks the label object and builds a hash string from it (about a microsecond,
 * and garbage). Here a series is looked up once (by the caller, which keeps it) and an update is an
 * addition — the per-command cost the benchmark can afford. The scrape side produces the same
 * objects prom-client's own metrics do, so its text format and its cluster aggregation apply.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string | number>;

/** What prom-client's registry reads from a metric at scrape time (and aggregates across processes). */
export interface ScrapedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Array<{ labels: Labels; value: number; metricName?: string }>;
}

function labelObject(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  names.forEach((n, i) => (labels[n] = values[i] ?? ''));
  return labels;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class HistogramSeries {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

abstract class Family<S> {
  readonly aggregator = 'sum' as const;
  private readonly byKey = new Map<string, S>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The series for these label values (in `labelNames` order); keep it, and update it directly. */
  series(...values: string[]): S {
    const key = values.join('\u0000');
    let s = this.byKey.get(key);
    if (!s) {
      s = this.create(labelObject(this.labelNames, values));
      this.byKey.set(key, s);
    }
    return s;
  }

  protected all(): IterableIterator<S> {
    return this.byKey.values();
  }

  protected abstract create(labels: Labels): S;

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  reset(): void {
    this.byKey.clear();
  }
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';
  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }
  /** prom-client's registry calls this at scrape time. */
  get(): ScrapedMetric {
    const values = [...this.all()].map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }
  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }
  get(): ScrapedMetric {
    const values: ScrapedMetric['values'] = [];
    for (const s of this.all()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}

/** Buckets for command and store latencies: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

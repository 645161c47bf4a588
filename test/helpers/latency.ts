/**
 * A bystander: a logged-in client that sends NOOP at intervals while a test attacks the server, and
 * records how long each took. A server that lets one command hold its event loop shows it here.
 */
import { RawClient, sleep } from './raw-client.js';

export interface LatencyReport {
  samples: number[];
  max: number;
  /** The given quantile (0..1) of the samples, 0 when there are none. */
  quantile(q: number): number;
}

export function report(samples: number[]): LatencyReport {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples,
    max: sorted[sorted.length - 1] ?? 0,
    quantile: (q) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!),
  };
}

export class NoopProbe {
  private readonly samples: number[] = [];
  private running = true;
  private readonly done: Promise<unknown>;

  /** `client` must be logged in; a NOOP every `intervalMs`, each waited for up to `timeoutMs`. */
  constructor(
    private readonly client: RawClient,
    intervalMs = 20,
    timeoutMs = 120_000,
  ) {
    this.done = (async () => {
      for (let n = 0; this.running; n++) {
        const started = performance.now();
        this.client.send(`probe${n} NOOP\r\n`);
        await this.client.expect(new RegExp(`^probe${n} OK`), timeoutMs);
        this.samples.push(performance.now() - started);
        await sleep(intervalMs);
      }
    })().catch((err: unknown) => err);
  }

  /** Stops after the NOOP in flight and reports. */
  async stop(): Promise<LatencyReport> {
    this.running = false;
    const failed = await this.done;
    if (failed) throw failed;
    return report(this.samples);
  }
}

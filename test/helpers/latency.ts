/**
 * A bystander: a logged-in client that sends NOOP at intervals while a test attacks the server, and
 * records how long each took. A server that lets one command hold its event loop shows it here.
 *
 * Each round trip is recorded twice: as seen (wall time), and as served (served-time.ts: less the
 * time the machine's other load kept this process's main thread off the CPU). The server under
 * test and the bystander share that thread, so the served figure is the time the thread was working
 * (the other command's stretch, the NOOP itself, a collection) or blocked (a synchronous disk
 * write): what the server made the bystander wait. On a loaded 2-core machine the wall figure also
 * carries every other process's load — a FETCH's 374 ms "bystander wait" at a load of 23 — so the
 * bounds are on the served figure (as the live fuzz run's probe does for a server in another
 * process, test/fuzz/probe.mjs).
 */
import { RawClient, sleep } from './raw-client.js';
import { servedTime } from './served-time.js';

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
  private readonly servedSamples: number[] = [];
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
        const { wall, served } = await servedTime(async () => {
          this.client.send(`probe${n} NOOP\r\n`);
          await this.client.expect(new RegExp(`^probe${n} OK`), timeoutMs);
        });
        this.samples.push(wall);
        this.servedSamples.push(served);
        await sleep(intervalMs);
      }
    })().catch((err: unknown) => err);
  }

  /** Stops after the NOOP in flight and reports: the round trips as seen, and `served` (see above). */
  async stop(): Promise<LatencyReport & { served: LatencyReport }> {
    this.running = false;
    const failed = await this.done;
    if (failed) throw failed;
    return { ...report(this.samples), served: report(this.servedSamples) };
  }
}

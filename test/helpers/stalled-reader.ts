/**
 * A client that sends one big FETCH and then stops reading: what the server holds meanwhile.
 * Used by the backpressure tests (plain and compressed sessions), which need the same measure.
 */
import type { TestServer } from './imap-server.js';
import { liveBytes } from './live-memory.js';
import { sleep, type RawClient } from './raw-client.js';

export interface StallMeasure {
  /** The largest growth of live memory (heap objects and array buffers, after a full collection) seen while the client did not read. */
  peak: number;
  /** Bytes the user's session handed to its transport (uncompressed) by the end of the stall. */
  written: number;
  /** How long the stall was watched, in ms: until the server had stopped writing and growing. */
  watchedMs: number;
  /** Growth of RSS at the end, for the log only: allocator arenas and heap sizing move it (live-memory.ts). */
  rssGrowth: number;
}

/** Samples 100 ms apart. */
const SAMPLE_MS = 100;
/** At least this many samples (1.5 s), however soon the server settles. */
const MIN_SAMPLES = 15;
/** The server has settled when the last this many samples saw no progress... */
const SETTLED_SAMPLES = 5;
/** ...of more than this many bytes written or held. */
const SETTLED_BYTES = 256 * 1024;
/**
 * Watched for at most this long: a server that keeps writing or growing is past the tests' bounds
 * long before (each sample's two collections take 0.5 s of wall time under a load of 15).
 */
const MAX_WATCH_MS = 30_000;

/**
 * Pauses the client's socket, sends `command`, and samples the server's live memory (liveBytes:
 * after a full collection, so garbage — a database driver's decoding makes plenty — does not
 * count) and the bytes it wrote, until it has stopped writing and growing: on a loaded machine
 * the answer fills the kernel's buffers over seconds, not in the first 100 ms, and growth that
 * comes late must still be seen. The caller resumes.
 */
export async function stallDuring(server: TestServer, client: RawClient, command: string, user = 'alice'): Promise<StallMeasure> {
  await sleep(200);
  const before = liveBytes();
  const rssBefore = process.memoryUsage().rss;
  // A private peek at the session's output counter, for these tests only.
  const live = (server.server as unknown as { live: Set<{ user?: string; out: { written: number } }> }).live;
  const session = [...live].find((x) => x.user === user)!;
  const started = performance.now();
  client.socket.pause();
  client.send(command);
  let peak = 0;
  const history: Array<{ written: number; held: number }> = [];
  while (performance.now() - started < MAX_WATCH_MS) {
    await sleep(SAMPLE_MS);
    const held = liveBytes() - before;
    peak = Math.max(peak, held);
    history.push({ written: session.out.written, held });
    if (history.length >= Math.max(MIN_SAMPLES, SETTLED_SAMPLES + 1)) {
      const recent = history.slice(-SETTLED_SAMPLES - 1);
      const moved = (f: (x: { written: number; held: number }) => number): number => Math.max(...recent.map(f)) - Math.min(...recent.map(f));
      if (moved((x) => x.written) <= SETTLED_BYTES && moved((x) => x.held) <= SETTLED_BYTES) break;
    }
  }
  return { peak, written: session.out.written, watchedMs: performance.now() - started, rssGrowth: process.memoryUsage().rss - rssBefore };
}

/**
 * A client that sends one big FETCH and then stops reading: what the server holds meanwhile.
 * Used by the backpressure tests (plain and compressed sessions), which need the same measure.
 */
import type { TestServer } from './imap-server.js';
import { sleep, type RawClient } from './raw-client.js';

export interface StallMeasure {
  /** The largest growth of live memory (array buffers or RSS) seen while the client did not read. */
  peak: number;
  /** Bytes the user's session handed to its transport (uncompressed) by the end of the stall. */
  written: number;
}

/**
 * Pauses the client's socket, sends `command`, and samples the process's memory for 1.5 s after a
 * collection each time, so garbage waiting for the collector (a database driver's decoding makes
 * plenty) does not count: only what the server holds for the stalled client. The caller resumes.
 */
export async function stallDuring(server: TestServer, client: RawClient, command: string, user = 'alice'): Promise<StallMeasure> {
  global.gc?.();
  await sleep(200);
  const before = process.memoryUsage();
  client.socket.pause();
  client.send(command);
  let peak = 0;
  for (let i = 0; i < 15; i++) {
    await sleep(100);
    global.gc?.();
    const now = process.memoryUsage();
    peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers, now.rss - before.rss);
  }
  // A private peek at the session's output counter, for these tests only.
  const live = (server.server as unknown as { live: Set<{ user?: string; out: { written: number } }> }).live;
  const written = [...live].find((x) => x.user === user)!.out.written;
  return { peak, written };
}

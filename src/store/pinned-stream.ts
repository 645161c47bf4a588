/** Message streams as the built-in stores hand them out (UserMailbox.stream()). */
import type { MessageStream } from './types.js';

/**
 * The shape of UserMailbox.stream() in both stores: FETCH asks for a stream while it builds a
 * response and its output queue reads it later, so the message is looked up and its bytes pinned
 * at the call (`pin`), and read only as the stream is consumed (`read`). An error from `pin` (the
 * message was expunged before the call) rejects `pinned` — so FETCH, which awaits it before it
 * announces the literal, leaves the message out instead of cutting the connection mid-literal —
 * and surfaces on the first read too, as the store contract says.
 */
export function pinnedStream<T>(pin: () => T, read: (pinned: T) => AsyncIterable<Buffer>): MessageStream {
  let pinned: T;
  try {
    pinned = pin();
  } catch (error) {
    const failed = Promise.reject(error);
    failed.catch(() => undefined); // also surfaces on the first read, for callers that do not wait
    const stream = (async function* () {
      throw error;
    })();
    return Object.assign(stream, { pinned: failed });
  }
  return read(pinned);
}

/** The piece size every built-in store streams bodies in. */
export const STREAM_CHUNK = 64 * 1024;

/** `[start, end)` of a buffer in pieces of `chunk` octets. */
export async function* bufferChunks(buf: Buffer, chunk: number, start = 0, end = buf.length): AsyncIterable<Buffer> {
  for (let at = start; at < end; at += chunk) yield buf.subarray(at, Math.min(end, at + chunk));
}

import type { MessageStream } from './types.js';

/**
 * The shape of UserMailbox.stream() in both stores: FETCH asks for a stream while it builds a
 * response and its output queue reads it later, so the message is looked up and its bytes pinned
 * at the call (`pin`), and read only as the stream is consumed (`read`). An error from `pin` (the
 * message is gone, its body is damaged) surfaces on the first read, as the store contract says,
 * and in `pinned` too, so FETCH can answer NO before it announces a literal it could not fill.
 */
export function pinnedStream<T>(pin: () => T, read: (pinned: T) => AsyncIterable<Buffer>): MessageStream {
  let pinned: T;
  try {
    pinned = pin();
  } catch (error) {
    const failed = Promise.reject(error);
    failed.catch(() => undefined); // a caller that only iterates hears of it there
    return Object.assign(
      (async function* () {
        throw error;
      })(),
      { pinned: failed },
    );
  }
  return read(pinned);
}

/** The piece size every built-in store streams bodies in. */
export const STREAM_CHUNK = 64 * 1024;

/** `[start, end)` of a buffer in pieces of `chunk` octets. */
export async function* bufferChunks(buf: Buffer, chunk: number, start = 0, end = buf.length): AsyncIterable<Buffer> {
  for (let at = start; at < end; at += chunk) yield buf.subarray(at, Math.min(end, at + chunk));
}

/**
 * The shape of UserMailbox.stream() in both stores: FETCH asks for a stream while it builds a
 * response and its output queue reads it later, so the message is looked up and its bytes pinned
 * at the call (`pin`), and read only as the stream is consumed (`read`). An error from `pin`
 * surfaces on the first read, as the store contract says.
 */
export function pinnedStream<T>(pin: () => T, read: (pinned: T) => AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let pinned: T;
  try {
    pinned = pin();
  } catch (error) {
    return (async function* () {
      throw error;
    })();
  }
  return read(pinned);
}

/** The piece size every built-in store streams bodies in. */
export const STREAM_CHUNK = 64 * 1024;

/** `[start, end)` of a buffer in pieces of `chunk` octets. */
export async function* bufferChunks(buf: Buffer, chunk: number, start = 0, end = buf.length): AsyncIterable<Buffer> {
  for (let at = start; at < end; at += chunk) yield buf.subarray(at, Math.min(end, at + chunk));
}

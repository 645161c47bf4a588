/**
 * The bytes of a new body kept in memory while it is written to its temp file, so that it is
 * parsed from there rather than read back (TempBlob, KEEP_FOR_PARSE_MAX) — copied, as they come,
 * into one buffer that earlier bodies used before.
 *
 * Why not keep the chunks and join them at the end (Buffer.concat): memory fresh from the
 * allocator costs a page fault per 4 KiB the first time it is touched, and that join was 0.5–2 ms
 * of event-loop CPU per megabyte, the most expensive copy of an LMTP delivery; a copy into memory
 * touched before costs about 40 µs (bench/lmtp-steps.ts). The buffers go back to a small free
 * list when the parse is done (`release`), so under steady load no new memory is touched.
 *
 * A buffer that is never released is merely garbage (the free list does not track lent buffers).
 * What must never happen is a release while the bytes are still read: the only reader is the
 * synchronous parse, and the callers release in the `finally` after their last parse.
 */

/** Free buffers kept for reuse, at most this many bytes in all. */
const FREE_MAX_BYTES = 16 * 1024 * 1024;
/** The first buffer made for a body when none is free; it doubles as the body grows. */
const FIRST_CAPACITY = 512 * 1024;

const free: Buffer[] = [];
let freeBytes = 0;

/** The largest free buffer (so that a body seldom has to move), or a new one of `min` bytes or more. */
function take(min: number): Buffer {
  let best = -1;
  for (let i = 0; i < free.length; i++) if (free[i]!.length >= min && (best === -1 || free[i]!.length > free[best]!.length)) best = i;
  if (best === -1) return Buffer.allocUnsafeSlow(Math.max(min, FIRST_CAPACITY));
  const [buf] = free.splice(best, 1);
  freeBytes -= buf!.length;
  return buf!;
}

function give(buf: Buffer): void {
  if (freeBytes + buf.length > FREE_MAX_BYTES) {
    // Keep the larger buffers: drop the smallest free one if that makes room, else this one.
    let smallest = -1;
    for (let i = 0; i < free.length; i++) if (smallest === -1 || free[i]!.length < free[smallest]!.length) smallest = i;
    if (smallest === -1 || free[smallest]!.length >= buf.length || freeBytes - free[smallest]!.length + buf.length > FREE_MAX_BYTES) return;
    freeBytes -= free[smallest]!.length;
    free.splice(smallest, 1);
  }
  free.push(buf);
  freeBytes += buf.length;
}

export class KeptBytes {
  private buf: Buffer | null = null;
  size = 0;

  /**
   * @param limit The most bytes this body will be kept for (the caller stops pushing past it): the
   *   buffer's doubling stops there. Without it, a body that crossed the caller's limit made one
   *   buffer twice that size and left it, and every smaller one it outgrew, on the free list — a
   *   50 MB APPEND (kept up to 4 MiB) left 2 + 4 + 8 MB there for good (append-streaming.test.ts).
   * @param expect Bytes the body is already known to reach (a body that outgrew its slot): the
   *   first buffer is made that large, not grown into through smaller ones.
   */
  constructor(
    private readonly limit = Number.POSITIVE_INFINITY,
    private readonly expect = 0,
  ) {}

  /** Appends `chunk`. */
  push(chunk: Buffer): void {
    const need = this.size + chunk.length;
    if (!this.buf || need > this.buf.length) {
      const grown = Math.max(need, this.expect, (this.buf?.length ?? 0) * 2);
      const bigger = take(Math.max(need, Math.min(grown, this.limit)));
      if (this.buf) {
        this.buf.copy(bigger, 0, 0, this.size);
        give(this.buf);
      }
      this.buf = bigger;
    }
    chunk.copy(this.buf, this.size);
    this.size = need;
  }

  /** The bytes kept: a view of the buffer, valid until release(). */
  bytes(): Buffer {
    return this.buf ? this.buf.subarray(0, this.size) : Buffer.alloc(0);
  }

  /** Gives the buffer back for another body; the view from bytes() must not be read after this. */
  release(): void {
    const buf = this.buf;
    this.buf = null;
    this.size = 0;
    if (buf) give(buf);
  }
}

/** For tests: how many buffers are free and their bytes. */
export function keptBytesFreeList(): { buffers: number; bytes: number } {
  return { buffers: free.length, bytes: freeBytes };
}

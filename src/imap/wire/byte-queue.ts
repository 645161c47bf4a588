/** Chunks smaller than this are copied together (gather) rather than kept as they came. */
const COPY_BELOW = 1024;
/** Small: a connection's gathering goes when its queue empties, and most never need one again. */
const GATHER_SIZE = 4096;

/**
 * Slices appended to an array, small ones after the first copied together onto the end of the last
 * when that is this gatherer's previous copy (ByteQueue.push; CommandFramer.takeBytes, a literal
 * read whole). Held as they came, small pieces cost a Buffer and an ArrayBuffer each, ~200 bytes of
 * heap, so a client sending a byte per TCP segment made the server hold ~200 times its bytes
 * (review, issue 23). Slices already handed out are never written again: filling goes on after them.
 */
export class SliceGatherer {
  private buf: Buffer | null = null;
  private used = 0;

  /**
   * Appends `piece` to `out`. `left`: bytes known to come after it (so a short literal allocates
   * little); unknown, GATHER_SIZE at a time.
   */
  add(out: Buffer[], piece: Buffer, left?: number): void {
    const last = out.length - 1;
    if (last < 0 || piece.length >= COPY_BELOW) {
      out.push(piece);
      return;
    }
    const buf = this.buf;
    const prev = out[last]!;
    if (buf !== null && prev.buffer === buf.buffer && prev.byteOffset + prev.length === buf.byteOffset + this.used && this.used + piece.length <= buf.length) {
      const from = prev.byteOffset - buf.byteOffset;
      this.used += piece.copy(buf, this.used);
      out[last] = buf.subarray(from, this.used);
      return;
    }
    if (buf === null || this.used + piece.length > buf.length) {
      const size = left === undefined ? GATHER_SIZE : Math.min(GATHER_SIZE * 4, Math.max(COPY_BELOW, piece.length + left));
      this.buf = Buffer.allocUnsafeSlow(size);
      this.used = 0;
    }
    const from = this.used;
    this.used += piece.copy(this.buf!, from);
    out.push(this.buf!.subarray(from, this.used));
  }

  /** Lets the buffer go (the slices handed out keep what they need of it). */
  reset(): void {
    this.buf = null;
    this.used = 0;
  }
}

/**
 * A FIFO of received chunks read by logical offset, without concatenating them: literal bodies leave
 * as slices of the chunks they arrived in. Every operation costs in proportion to the chunks it
 * touches, never to all chunks held, so a client sending one byte per packet cannot make the framer
 * do quadratic work.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk. */
  private first = 0;
  /** Bytes of chunks[first] already consumed. */
  private head = 0;
  private total = 0;
  /** Where small chunks behind others are copied (push). */
  private readonly gatherer = new SliceGatherer();

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    // Into an empty queue a chunk goes as it is: most are a whole command, read at once. Behind
    // others the last chunk is still unconsumed, so a small one may be copied onto its end.
    if (this.total > 0) this.gatherer.add(this.chunks, chunk);
    else this.chunks.push(chunk);
    this.total += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.total = 0;
    this.gatherer.reset();
  }

  private startOf(i: number): number {
    return i === this.first ? this.head : 0;
  }

  /** Chunk index holding logical `offset` and that chunk's logical start, searched from the end. */
  private locate(offset: number): [number, number] {
    let base = this.total;
    for (let i = this.chunks.length - 1; i >= this.first; i--) {
      base -= this.chunks[i]!.length - this.startOf(i);
      if (base <= offset) return [i, base];
    }
    return [this.first, 0];
  }

  /** Logical offset of the first `byte` at or after `from`, or -1. */
  indexOf(byte: number, from: number): number {
    if (from >= this.total) return -1;
    let [i, base] = this.locate(from);
    for (; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const start = this.startOf(i);
      const at = chunk.indexOf(byte, start + Math.max(0, from - base));
      if (at >= 0) return base + at - start;
      base += chunk.length - start;
    }
    return -1;
  }

  byteAt(offset: number): number {
    if (offset < 0 || offset >= this.total) throw new RangeError('ByteQueue: offset beyond buffered data');
    const [i, base] = this.locate(offset);
    return this.chunks[i]![this.startOf(i) + offset - base]!;
  }

  /** Consumes up to `n` bytes, returned as slices (fewer bytes only when fewer are buffered). */
  takeChunks(n: number): Buffer[] {
    const out: Buffer[] = [];
    let left = Math.min(n, this.total);
    while (left > 0) {
      const chunk = this.chunks[this.first]!;
      const avail = chunk.length - this.head;
      if (avail <= left) {
        out.push(this.head === 0 ? chunk : chunk.subarray(this.head));
        this.first++;
        this.head = 0;
        this.total -= avail;
        left -= avail;
      } else {
        out.push(chunk.subarray(this.head, this.head + left));
        this.head += left;
        this.total -= left;
        left = 0;
      }
    }
    this.compact();
    return out;
  }

  /** Drops consumed chunk slots now and then, keeping the array from growing forever. */
  private compact(): void {
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
      // Not kept for the connection's life: 4 KiB per connection adds up at 10,000 (review).
      this.gatherer.reset();
    } else if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** Consumes `n` bytes as a latin1 string (one char per byte). */
  takeString(n: number): string {
    const parts = this.takeChunks(n);
    if (parts.length === 1) return parts[0]!.toString('latin1');
    return Buffer.concat(parts).toString('latin1');
  }

  skip(n: number): void {
    this.takeChunks(n);
  }
}

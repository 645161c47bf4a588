/** Chunks smaller than this are copied together (gather) rather than kept as they came. */
const COPY_BELOW = 1024;
/** Small: a connection's gathering goes when its queue empties, and most never need one again. */
const GATHER_SIZE = 4096;

/**
 * Slices appended to an array, small ones after the first copied together onto the end of the last
 * when that is this gatherer's previous copy (CommandFramer.takeBytes, a literal read whole).
 */
export class SliceGatherer {
  private buf: Buffer | null = null;
  private used = 0;

  /** Appends `piece` to `out`; `left`: bytes still to come after it (so a short literal allocates little). */
  add(out: Buffer[], piece: Buffer, left: number): void {
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
      this.buf = Buffer.allocUnsafeSlow(Math.min(GATHER_SIZE * 4, Math.max(COPY_BELOW, piece.length + left)));
      this.used = 0;
    }
    const from = this.used;
    this.used += piece.copy(this.buf!, from);
    out.push(this.buf!.subarray(from, this.used));
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
  /** Where small chunks are copied (push), how much of it is used, and whether the last chunk ends there. */
  private gathering: Buffer | null = null;
  private gathered = 0;
  private gatheredLast = false;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    // Into an empty queue a chunk goes as it is: most are a whole command, read at once.
    if (chunk.length < COPY_BELOW && this.total > 0) {
      this.total += chunk.length;
      this.gather(chunk);
      return;
    }
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.gatheredLast = false;
  }

  /**
   * A small chunk is copied into a shared buffer, onto the end of the last chunk when that is the
   * previous gathering: held as it came, each costs a Buffer and an ArrayBuffer, ~200 bytes of heap
   * a chunk, so a client sending a literal a byte per TCP segment made the server hold ~200 times
   * its bytes (review, issue 23). Slices already handed out are never written again: filling goes
   * on after them.
   */
  private gather(chunk: Buffer): void {
    let g = this.gathering;
    const last = this.chunks.length - 1;
    if (g !== null && last >= this.first && this.gatheredLast && this.gathered + chunk.length <= g.length) {
      const from = this.gathered - this.chunks[last]!.length;
      this.gathered += chunk.copy(g, this.gathered);
      this.chunks[last] = g.subarray(from, this.gathered);
      return;
    }
    if (g === null || this.gathered + chunk.length > g.length) {
      g = this.gathering = Buffer.allocUnsafeSlow(GATHER_SIZE);
      this.gathered = 0;
    }
    const from = this.gathered;
    this.gathered += chunk.copy(g, from);
    this.chunks.push(g.subarray(from, this.gathered));
    this.gatheredLast = true;
  }

  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.total = 0;
    this.gathering = null;
    this.gatheredLast = false;
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
      this.gathering = null;
      this.gatheredLast = false;
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

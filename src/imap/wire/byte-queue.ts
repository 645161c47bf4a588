/**
 * A FIFO of received chunks read by logical offset, without concatenating them: literal bodies leave
 * as slices of the chunks they arrived in.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }

  /** Logical offset of the first `byte` at or after `from`, or -1. */
  indexOf(byte: number, from: number): number {
    if (from >= this.total) return -1;
    let base = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      const len = chunk.length - start;
      if (from < base + len) {
        const at = chunk.indexOf(byte, start + Math.max(0, from - base));
        if (at >= 0) return base + at - start;
      }
      base += len;
    }
    return -1;
  }

  byteAt(offset: number): number {
    let rest = offset;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      if (rest < chunk.length - start) return chunk[start + rest]!;
      rest -= chunk.length - start;
    }
    throw new RangeError('ByteQueue: offset beyond buffered data');
  }

  /** Consumes up to `n` bytes, returned as slices (fewer bytes only when fewer are buffered). */
  takeChunks(n: number): Buffer[] {
    const out: Buffer[] = [];
    let left = Math.min(n, this.total);
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const avail = chunk.length - this.head;
      if (avail <= left) {
        out.push(this.head === 0 ? chunk : chunk.subarray(this.head));
        this.chunks.shift();
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
    return out;
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

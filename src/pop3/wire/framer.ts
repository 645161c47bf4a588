/**
 * Splits POP3 input into lines. No I/O: the session pushes chunks in and takes lines out.
 *
 * RFC 1939 §3 says commands end with CRLF; a bare LF is accepted too because some clients and
 * scripts send it, and refusing them helps nobody. A line longer than the limit is not buffered:
 * its bytes are dropped as they arrive and one `overlong` item stands in its place, so a 1 MB line
 * costs no memory and the session can answer -ERR and carry on.
 */
export type FramedItem = { kind: 'line'; text: string } | { kind: 'overlong'; length: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 1939 names no charset. Today's clients send UTF-8 user names and passwords, so that is tried
 * first; bytes that are not UTF-8 fall back to latin1, which maps each byte to one character.
 */
export function decodeLine(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

export class LineFramer {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Bytes of the current overlong line dropped so far; -1 while the line is within the limit. */
  private dropping = -1;
  private readonly queue: Array<{ item: FramedItem; bytes: number }> = [];
  private queuedBytes = 0;

  constructor(private readonly maxLineLength: number) {}

  /** Feeds received bytes; complete lines become available through next(). */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      const piece = chunk.subarray(start, end);
      start = end;
      if (this.dropping >= 0) {
        this.dropping += piece.length;
      } else if (this.partBytes + piece.length > this.maxLineLength) {
        this.dropping = this.partBytes + piece.length;
        this.parts = [];
        this.partBytes = 0;
      } else {
        this.parts.push(piece);
        this.partBytes += piece.length;
      }
      if (lf !== -1) this.endLine();
    }
  }

  private endLine(): void {
    if (this.dropping >= 0) {
      this.queue.push({ item: { kind: 'overlong', length: this.dropping }, bytes: 0 });
      this.dropping = -1;
      return;
    }
    const raw = Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    let len = raw.length - 1; // the LF
    if (len > 0 && raw[len - 1] === 0x0d) len -= 1;
    this.queue.push({ item: { kind: 'line', text: decodeLine(raw.subarray(0, len)) }, bytes: raw.length });
    this.queuedBytes += raw.length;
  }

  /** The next complete line, or undefined when none is waiting. */
  next(): FramedItem | undefined {
    const entry = this.queue.shift();
    if (!entry) return undefined;
    this.queuedBytes -= entry.bytes;
    return entry.item;
  }

  /** Bytes waiting: queued lines plus the partial line. Used for read backpressure. */
  get buffered(): number {
    return this.queuedBytes + this.partBytes;
  }

  /**
   * Forgets everything received so far. Used after STLS: anything the client sent before the TLS
   * handshake must not be taken as a command (RFC 2595 §4, the CVE-2011-0411 class of flaw).
   */
  discard(): void {
    this.parts = [];
    this.partBytes = 0;
    this.dropping = -1;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

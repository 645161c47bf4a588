/**
 * Cuts ManageSieve input into commands (RFC 5804 §4): a command is one or more lines, where a line
 * ending in a literal announcement `{n+}` (or `{n}`, which Dovecot and Cyrus accept from clients
 * too; no continuation is ever sent) is followed by n octets and then the rest of the command.
 *
 * Bounds: a line (literals not counted) may be at most `maxLineLength`; a literal larger than
 * `maxLiteral()` is not kept — its octets are counted and dropped, and the command is handed on
 * marked `tooLarge`, so the session can refuse it (NO) or hang up.
 */
export type Segment = { kind: 'text'; text: Buffer } | { kind: 'literal'; data: Buffer };

export type FramedItem =
  | { kind: 'command'; segments: Segment[] }
  /** A literal of `size` octets was announced over the limit; its bytes were dropped (or will be). */
  | { kind: 'tooLarge'; size: number; segments: Segment[] }
  /** A line over maxLineLength: the stream cannot be resynchronised; the session ends. */
  | { kind: 'overlong' };

const LITERAL_AT_END = /\{(\d{1,10})(\+?)\}$/;

export class CommandFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private segments: Segment[] = [];
  /** Octets of the literal being read (kept or dropped). */
  private literal: { size: number; parts: Buffer[]; got: number; keep: boolean } | null = null;
  private tooLarge: number | null = null;
  private broken = false;

  constructor(
    private readonly maxLineLength: number,
    private readonly maxLiteral: () => number,
  ) {}

  /** Bytes held: unconsumed input plus the parts of the command being assembled. */
  get buffered(): number {
    let n = this.buffer.length;
    for (const s of this.segments) n += s.kind === 'text' ? s.text.length : s.data.length;
    if (this.literal?.keep) n += this.literal.got;
    return n;
  }

  /** A literal over the limit is being read and dropped (a session before login hangs up at once). */
  get droppingLiteral(): boolean {
    return this.literal !== null && !this.literal.keep;
  }

  /** True while a command has started but is not complete. */
  get midCommand(): boolean {
    return this.literal !== null || this.segments.length > 0 || this.buffer.length > 0;
  }

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Drops everything held (after STARTTLS: nothing pipelined before the handshake counts). */
  discard(): void {
    this.buffer = Buffer.alloc(0);
    this.segments = [];
    this.literal = null;
    this.tooLarge = null;
  }

  next(): FramedItem | undefined {
    if (this.broken) return undefined;
    for (;;) {
      if (this.literal) {
        const want = this.literal.size - this.literal.got;
        const take = Math.min(want, this.buffer.length);
        if (take > 0) {
          if (this.literal.keep) this.literal.parts.push(this.buffer.subarray(0, take));
          this.literal.got += take;
          this.buffer = this.buffer.subarray(take);
        }
        if (this.literal.got < this.literal.size) return undefined;
        if (this.literal.keep) this.segments.push({ kind: 'literal', data: Buffer.concat(this.literal.parts, this.literal.size) });
        this.literal = null;
        continue;
      }
      const lf = this.buffer.indexOf(0x0a);
      if (lf === -1) {
        if (this.buffer.length > this.maxLineLength) return this.fail();
        return undefined;
      }
      if (lf + 1 > this.maxLineLength + 2) return this.fail();
      const end = lf > 0 && this.buffer[lf - 1] === 0x0d ? lf - 1 : lf;
      const line = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(lf + 1);
      const marker = LITERAL_AT_END.exec(line.toString('latin1'));
      if (marker) {
        const size = Number(marker[1]);
        this.segments.push({ kind: 'text', text: line });
        const keep = size <= this.maxLiteral() && this.tooLarge === null;
        if (!keep && this.tooLarge === null) this.tooLarge = size;
        this.literal = { size, parts: [], got: 0, keep };
        continue;
      }
      this.segments.push({ kind: 'text', text: line });
      const segments = this.segments;
      this.segments = [];
      const tooLarge = this.tooLarge;
      this.tooLarge = null;
      return tooLarge === null ? { kind: 'command', segments } : { kind: 'tooLarge', size: tooLarge, segments };
    }
  }

  private fail(): FramedItem {
    this.broken = true;
    this.discard();
    return { kind: 'overlong' };
  }
}

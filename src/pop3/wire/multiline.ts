/**
 * The body of a multi-line POP3 response (RFC 1939 §3), produced chunk by chunk so a large message
 * never sits in memory twice:
 *   - every line ends in CRLF on the wire whatever the stored bytes use (bare LF or CR become CRLF);
 *   - a line that starts with "." gets one more "." (byte-stuffing);
 *   - the body ends in CRLF, then ".CRLF".
 * With `bodyLines` set it cuts the message after the header and that many body lines (TOP, §7).
 * With `stuff` off it only normalises, which is how a message's octet count is measured: the size
 * POP3 reports is what RETR sends before stuffing and the terminating line (§5 LIST/STAT).
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');
const DOT_BUF = Buffer.from('.');

export interface MultilineOptions {
  /** Byte-stuff leading dots and end with ".CRLF" (default true). */
  stuff?: boolean;
  /** TOP: stop after the header, the blank line and this many body lines. */
  bodyLines?: number;
}

export class MultilineEncoder {
  private atLineStart = true;
  /** The previous byte was a CR already written as CRLF, so an LF right after it is swallowed. */
  private skipLf = false;
  private inBody = false;
  private bodyLinesSeen = 0;
  private finished = false;
  private readonly stuff: boolean;
  private readonly bodyLines: number | undefined;
  /** Octets produced so far, excluding stuffing dots and the terminator. */
  octets = 0;

  constructor(options: MultilineOptions = {}) {
    this.stuff = options.stuff ?? true;
    this.bodyLines = options.bodyLines;
  }

  /** True once TOP has all it needs: the caller may stop reading the message. */
  get done(): boolean {
    return this.finished;
  }

  push(chunk: Buffer): Buffer {
    if (this.finished || chunk.length === 0) return Buffer.alloc(0);
    const out: Buffer[] = [];
    let from = 0; // start of the run of bytes copied unchanged
    let i = 0;
    const flush = (to: number): void => {
      if (to > from) {
        out.push(chunk.subarray(from, to));
        this.octets += to - from;
      }
    };
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF && this.skipLf) {
        flush(i);
        from = i + 1;
        this.skipLf = false;
        continue;
      }
      this.skipLf = false;
      if (b === CR || b === LF) {
        const nextIsLf = b === CR && i + 1 < chunk.length && chunk[i + 1] === LF;
        if (nextIsLf) {
          i += 1; // the CRLF is copied as it is
          flush(i + 1);
        } else {
          flush(i);
          out.push(CRLF);
          this.octets += 2;
          this.skipLf = b === CR;
        }
        from = i + 1;
        this.endOfLine();
        if (this.finished) break;
        continue;
      }
      if (this.atLineStart && b === DOT && this.stuff) {
        flush(i);
        out.push(DOT_BUF);
        from = i;
      }
      this.atLineStart = false;
    }
    if (!this.finished) flush(chunk.length);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  private endOfLine(): void {
    const wasEmpty = this.atLineStart;
    this.atLineStart = true;
    if (this.bodyLines === undefined) return;
    if (!this.inBody) {
      // RFC 5322 §2.1: the first empty line separates the header from the body.
      if (wasEmpty) this.inBody = true;
    } else {
      this.bodyLinesSeen += 1;
    }
    if (this.inBody && this.bodyLinesSeen >= this.bodyLines) this.finished = true;
  }

  /** Closes the response: a CRLF if the message did not end with one, then the terminator. */
  end(): Buffer {
    const parts: Buffer[] = [];
    if (!this.atLineStart) {
      parts.push(CRLF);
      this.octets += 2;
      this.atLineStart = true;
    }
    if (this.stuff) parts.push(TERMINATOR);
    this.finished = true;
    return Buffer.concat(parts);
  }
}

/** Octets a message occupies on the wire before stuffing: what LIST and STAT must report. */
export async function measureOctets(content: AsyncIterable<Buffer> | Buffer): Promise<number> {
  const enc = new MultilineEncoder({ stuff: false });
  if (Buffer.isBuffer(content)) enc.push(content);
  else for await (const chunk of content) enc.push(chunk);
  enc.end();
  return enc.octets;
}

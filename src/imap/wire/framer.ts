/**
 * Splits the client's byte stream into commands: text lines and the literals between them.
 *
 * The framer is lazy: it consumes bytes only while a read (`nextCommand`/`nextLine`) is running,
 * so the session decides about each literal with its state as it is after the previous command
 * (RFC 3501 §5.5: a server must see the whole command before it acts; the literal gate runs before
 * the `+` continuation is sent, RFC 3501 §7.5).
 *
 * Command text is decoded as latin1, one char per byte, so the tokenizer can recover the exact bytes
 * of quoted strings (8-bit text, RFC 6855) from it.
 */
import type { FramedCommand } from './types.js';
import type { ImapLimits } from '../limits.js';
import { ByteQueue } from './byte-queue.js';

export interface LiteralRequest {
  /** The command text received so far (text segments joined), enough to read tag and name. */
  textSoFar: string;
  /** Announced size in bytes. */
  size: number;
  /** `{n+}` (RFC 7888): the bytes follow without waiting for a continuation. */
  nonSync: boolean;
  /** `~{n}` (RFC 3516 literal8). */
  binary: boolean;
}

/**
 * Decides about a literal before its bytes are read. Resolve `null` to accept (for a synchronising
 * literal the gate writes the `+` continuation itself before resolving), or `{ reject: true }` after
 * writing the tagged reply.
 */
export type LiteralGate = (request: LiteralRequest) => Promise<{ reject: true } | null> | { reject: true } | null;

export type FrameResult =
  | { type: 'command'; command: FramedCommand }
  | { type: 'rejected' }
  | { type: 'fatal'; reason: string };

export class FrameTooLongError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameTooLongError';
  }
}

const TOO_LONG = Symbol('too long');

interface RawLine {
  text: string;
  /** Bytes consumed including the line end. */
  consumed: number;
}

interface LiteralMarker {
  size: number;
  nonSync: boolean;
  binary: boolean;
}

/**
 * The literal marker that ends `line`, if any. Quote state is tracked so that `"{5}"` is not taken
 * for a literal; a line always starts outside quotes because quoted strings cannot span lines.
 */
export function findLiteralMarker(line: string): LiteralMarker | 'invalid' | null {
  if (!line.endsWith('}')) return null;
  const open = line.lastIndexOf('{');
  if (open < 0) return null;
  let inQuote = false;
  for (let i = 0; i < open; i++) {
    const c = line.charCodeAt(i);
    if (inQuote && c === 0x5c /* \ */) i++;
    else if (c === 0x22 /* " */) inQuote = !inQuote;
  }
  if (inQuote) return null;
  const m = /^(\d+)(\+?)\}$/.exec(line.slice(open + 1));
  if (!m) return null;
  const size = Number(m[1]);
  if (!Number.isSafeInteger(size)) return 'invalid';
  return { size, nonSync: m[2] === '+', binary: open > 0 && line[open - 1] === '~' };
}

export class CommandFramer {
  private readonly queue = new ByteQueue();
  private ended = false;
  private reading = false;
  private fatalReason: string | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly limits: ImapLimits) {}

  /** Bytes from the socket. Ignored after a fatal framing error (the connection is closing). */
  push(chunk: Buffer): void {
    if (this.ended || this.fatalReason !== null || chunk.length === 0) return;
    this.queue.push(chunk);
    this.notify();
  }

  /** Bytes held and not yet consumed; the connection pauses the socket above maxPipelinedBytes. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The socket ended: reads waiting for more bytes resolve null. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Drops everything buffered: after STARTTLS, pipelined plaintext must never run (RFC 3207 §4.2 spirit, RFC 2595 §3.1). */
  discardBuffered(): void {
    this.queue.clear();
  }

  async nextCommand(onLiteral: LiteralGate): Promise<FrameResult | null> {
    return this.exclusive(async () => {
      if (this.fatalReason !== null) return { type: 'fatal', reason: this.fatalReason };
      const text: string[] = [];
      const literals: Buffer[][] = [];
      let size = 0;
      for (;;) {
        const line = await this.readLine(this.limits.maxLineLength);
        if (line === null) return null;
        if (line === TOO_LONG) return this.fail(`Line longer than ${this.limits.maxLineLength} bytes`);
        size += line.consumed;
        if (size > this.limits.maxCommandSize) return this.fail('Command too large');
        text.push(line.text);
        const marker = findLiteralMarker(line.text);
        if (marker === null) return { type: 'command', command: { text, literals, size } };
        if (marker === 'invalid') return this.fail('Invalid literal size');

        const verdict = await onLiteral({ textSoFar: text.join(''), ...marker });
        if (verdict !== null && verdict.reject) {
          // RFC 7888 §4: a rejected non-synchronising literal is on its way anyway; we may close.
          if (marker.nonSync) return this.fail('Non-synchronizing literal rejected');
          return { type: 'rejected' };
        }
        if (size + marker.size > this.limits.maxCommandSize) return this.fail('Command too large');
        const body = await this.readBytes(marker.size);
        if (body === null) return null;
        literals.push(body);
        size += marker.size;
      }
    });
  }

  /** One raw line without its line end (AUTHENTICATE responses, IDLE's DONE); null at end of input. */
  async nextLine(maxLength: number): Promise<string | null> {
    return this.exclusive(async () => {
      if (this.fatalReason !== null) throw new FrameTooLongError(this.fatalReason);
      const line = await this.readLine(maxLength);
      if (line === TOO_LONG) {
        const reason = `Line longer than ${maxLength} bytes`;
        this.fail(reason);
        throw new FrameTooLongError(reason);
      }
      return line === null ? null : line.text;
    });
  }

  private async exclusive<T>(read: () => Promise<T>): Promise<T> {
    if (this.reading) throw new Error('CommandFramer: concurrent reads');
    this.reading = true;
    try {
      return await read();
    } finally {
      this.reading = false;
    }
  }

  private fail(reason: string): FrameResult {
    this.fatalReason = reason;
    this.queue.clear();
    return { type: 'fatal', reason };
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /**
   * Reads one line ended by CRLF (or a bare LF, accepted leniently). Fails as soon as more than
   * `maxLength` bytes (+ a possible CR) are buffered without a line end, so an endless line is never
   * held in memory.
   */
  private async readLine(maxLength: number): Promise<RawLine | null | typeof TOO_LONG> {
    let scanned = 0;
    for (;;) {
      const lf = this.queue.indexOf(0x0a, scanned);
      if (lf >= 0) {
        let end = lf;
        if (end > 0 && this.queue.byteAt(end - 1) === 0x0d) end--;
        if (end > maxLength) return TOO_LONG;
        const text = this.queue.takeString(end);
        this.queue.skip(lf + 1 - end);
        return { text, consumed: lf + 1 };
      }
      scanned = this.queue.length;
      if (scanned > maxLength + 1) return TOO_LONG;
      if (this.ended || this.fatalReason !== null) return null;
      await this.waitForData();
    }
  }

  /** Exactly `n` bytes as slices of the chunks they arrived in. */
  private async readBytes(n: number): Promise<Buffer[] | null> {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      if (this.queue.length === 0) {
        if (this.ended || this.fatalReason !== null) return null;
        await this.waitForData();
        continue;
      }
      const part = this.queue.takeChunks(left);
      for (const b of part) {
        out.push(b);
        left -= b.length;
      }
    }
    return out;
  }
}

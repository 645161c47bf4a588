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
  /**
   * The command's first line (up to and including the first literal marker): enough to read tag and
   * name. Never the whole text so far, which would cost time in proportion to it per literal.
   */
  firstLine: string;
  /** Announced size in bytes. */
  size: number;
  /** `{n+}` (RFC 7888): the bytes follow without waiting for a continuation. */
  nonSync: boolean;
  /** `~{n}` (RFC 3516 literal8). */
  binary: boolean;
  /** Literals of this command already read (0 for the first). */
  index: number;
  /** Bytes of this command so far: its lines (this one included) and literals. */
  commandSize: number;
  /**
   * A bound of `FrameBounds` this literal would break. The gate must reject it (and write the
   * reply); if it does not, the framer ends the connection.
   */
  exceeds: 'literals' | 'commandSize' | null;
}

/** The framing bounds of one read; they differ before and after authentication. */
export interface FrameBounds {
  maxLineLength: number;
  maxCommandSize: number;
  maxLiterals: number;
}

/**
 * Decides about a literal before its bytes are read. Resolve `null` to accept (for a synchronising
 * literal the gate writes the `+` continuation itself before resolving), or `{ reject: true }` after
 * writing the tagged reply. For a non-synchronising literal a rejection ends the connection; `reason`
 * is then the text of its BYE.
 */
export type LiteralVerdict = { reject: true; reason?: string } | { stream: true } | null;
export type LiteralGate = (request: LiteralRequest) => Promise<LiteralVerdict> | LiteralVerdict;

/**
 * A literal handed on while it is still arriving (APPEND's message): the command runs as soon as
 * its marker is accepted and reads the bytes through this as the client sends them, so a large
 * message is never held whole by the session. Iterating it yields the literal's bytes and ends
 * once the command's end (the line after the literal, which must be empty) has been read; it
 * throws if the connection ends first or the command goes on after the literal.
 */
export interface StreamedLiteral extends AsyncIterable<Buffer> {
  readonly size: number;
  /** Reads (and drops) whatever the command has not read, up to the command's end. */
  drain(): Promise<void>;
  /** Why the literal could not be read whole, once it failed. */
  readonly failure: Error | null;
}

/** The command went on after a streamed literal (or its input ended there). */
export class StreamedLiteralError extends Error {
  constructor(
    message: string,
    /** The connection is over (input ended or a framing bound broke), not just this command. */
    readonly fatal: boolean,
  ) {
    super(message);
    this.name = 'StreamedLiteralError';
  }
}

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
  private pendingSize = 0;
  /** A streamed literal is being read by the command that owns it. */
  private streaming = false;

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

  /** Takes the bytes read but not yet framed (COMPRESS: they are compressed and go to the inflater). */
  takeBuffered(): Buffer[] {
    return this.queue.takeChunks(this.queue.length);
  }

  /**
   * Bytes held for the command being read: its lines and literals so far, not counting what is
   * still buffered (`buffered`). Zero between commands.
   */
  get commandBytes(): number {
    return this.pendingSize;
  }

  /**
   * Reads the next command. Work is linear in its bytes: text segments and literals are collected
   * as they come and never re-joined while reading.
   */
  async nextCommand(onLiteral: LiteralGate, bounds: Partial<FrameBounds> = {}): Promise<FrameResult | null> {
    const maxLineLength = bounds.maxLineLength ?? this.limits.maxLineLength;
    const maxCommandSize = bounds.maxCommandSize ?? this.limits.maxCommandSize;
    const maxLiterals = bounds.maxLiterals ?? this.limits.maxLiteralsPerCommand;
    return this.exclusive(async () => {
      if (this.fatalReason !== null) return { type: 'fatal', reason: this.fatalReason };
      const text: string[] = [];
      const literals: Buffer[][] = [];
      this.pendingSize = 0;
      try {
        for (;;) {
          const line = await this.readLine(maxLineLength);
          if (line === null) return null;
          if (line === TOO_LONG) return this.fail(`Line longer than ${maxLineLength} bytes`);
          this.pendingSize += line.consumed;
          if (this.pendingSize > maxCommandSize) return this.fail('Command too large');
          text.push(line.text);
          const marker = findLiteralMarker(line.text);
          if (marker === null) return { type: 'command', command: { text, literals, size: this.pendingSize } };
          if (marker === 'invalid') return this.fail('Invalid literal size');

          const exceeds =
            literals.length >= maxLiterals ? 'literals' : this.pendingSize + marker.size > maxCommandSize ? 'commandSize' : null;
          const verdict = await onLiteral({
            firstLine: text[0]!,
            ...marker,
            index: literals.length,
            commandSize: this.pendingSize,
            exceeds,
          });
          if (verdict !== null && 'stream' in verdict) {
            literals.push([]);
            text.push('');
            this.pendingSize += marker.size;
            const streamed = this.streamLiteral(marker.size, maxLineLength);
            return { type: 'command', command: { text, literals, size: this.pendingSize, streamed } };
          }
          if (verdict !== null && verdict.reject) {
            // RFC 7888 §4: a rejected non-synchronising literal is on its way anyway; we close.
            if (marker.nonSync) return this.fail(verdict.reason ?? 'Non-synchronizing literal rejected');
            return { type: 'rejected' };
          }
          if (exceeds === 'literals') return this.fail('Too many literals in one command');
          if (exceeds === 'commandSize') return this.fail('Command too large');
          const body = await this.readBytes(marker.size);
          if (body === null) return null;
          literals.push(body);
        }
      } finally {
        this.pendingSize = 0;
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
    if (this.reading || this.streaming) throw new Error('CommandFramer: concurrent reads');
    this.reading = true;
    try {
      return await read();
    } finally {
      this.reading = false;
    }
  }

  /**
   * The reader of a literal that the command consumes while it arrives. Until its end (and the
   * command's end after it) has been read, no other read may start: the connection drains it
   * after the command, whatever the command did with it.
   */
  private streamLiteral(size: number, maxLineLength: number): StreamedLiteral {
    this.streaming = true;
    let left = size;
    let finished = false;
    let failure: StreamedLiteralError | null = null;
    let started = false;
    let ready: Buffer[] = [];
    const fail = (err: StreamedLiteralError): never => {
      failure = err;
      finished = true;
      this.streaming = false;
      throw err;
    };
    /** The next piece of the literal, or null once it and the command's end are read. */
    const next = async (): Promise<Buffer | null> => {
      if (failure) throw failure;
      if (finished) return null;
      while (left > 0 && ready.length === 0) {
        if (this.queue.length === 0) {
          if (this.ended || this.fatalReason !== null) return fail(new StreamedLiteralError('Connection closed in the middle of the literal', true));
          await this.waitForData();
          continue;
        }
        if (ready.length === 0) {
          // Whatever is buffered, as the slices it arrived in; handed out one at a time.
          ready = this.queue.takeChunks(left);
          for (const b of ready) left -= b.length;
        }
      }
      if (ready.length > 0) return ready.shift()!;
      const line = await this.readLine(maxLineLength);
      if (line === null) return fail(new StreamedLiteralError('Connection closed before the end of the command', true));
      if (line === TOO_LONG) {
        this.fail(`Line longer than ${maxLineLength} bytes`);
        return fail(new StreamedLiteralError(`Line longer than ${maxLineLength} bytes`, true));
      }
      if (line.text !== '') {
        // More after the message (a second message, or garbage): this server takes one message
        // per APPEND. A literal announced there cannot be refused in order any more.
        const marker = findLiteralMarker(line.text);
        if (marker !== null) {
          this.fail('Unexpected literal after the APPEND message');
          return fail(new StreamedLiteralError('Unexpected literal after the APPEND message', true));
        }
        return fail(new StreamedLiteralError('Unexpected data after the message literal', false));
      }
      finished = true;
      this.streaming = false;
      return null;
    };
    return {
      size,
      get failure() {
        return failure;
      },
      [Symbol.asyncIterator]() {
        if (started) throw new Error('A streamed literal can be read once');
        started = true;
        return {
          next: async (): Promise<IteratorResult<Buffer>> => {
            const piece = await next();
            return piece === null ? { done: true, value: undefined } : { done: false, value: piece };
          },
        };
      },
      async drain() {
        started = true;
        try {
          while ((await next()) !== null);
        } catch {
          // Recorded in `failure`; the connection decides what it means.
        }
      },
    };
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

  /** Exactly `n` bytes as slices of the chunks they arrived in (counted in `commandBytes` as they come). */
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
        this.pendingSize += b.length;
      }
    }
    return out;
  }
}

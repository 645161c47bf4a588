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
import type { FramedCommand, ResponseCode } from './types.js';
import type { ImapLimits } from '../limits.js';
import { ByteQueue, SliceGatherer } from './byte-queue.js';

export interface LiteralRequest {
  /**
   * The command's first line (up to and including the first literal marker): enough to read tag and
   * name. Never the whole text so far, which would cost time in proportion to it per literal.
   */
  firstLine: string;
  /** The line that ends with this literal's marker (the first line for the first literal). */
  line: string;
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
   * The literal comes after a streamed one (a further message of a MULTIAPPEND): the command is
   * already running, so a refusal is its answer — the gate writes nothing and says why in
   * `refusal`, and the framer throws it to the command (LiteralRefusedError).
   */
  afterStreamed?: boolean;
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
export type LiteralVerdict = { reject: true; reason?: string; refusal?: LiteralRefusal } | { stream: true } | null;

/** The tagged answer to a refused literal, for the command to give (LiteralRequest.afterStreamed). */
export interface LiteralRefusal {
  status: 'BAD' | 'NO';
  text: string;
  code?: ResponseCode;
}
export type LiteralGate = (request: LiteralRequest) => Promise<LiteralVerdict> | LiteralVerdict;

/**
 * A literal handed on while it is still arriving (APPEND's message): the command runs as soon as
 * its marker is accepted and reads the bytes through this as the client sends them, so a large
 * message is never held whole by the session. Iterating it yields the literal's bytes and ends
 * once the line after the literal has been read too; it throws if the connection ends first.
 *
 * That line either ends the command (it is empty) or goes on with more of it — the next message
 * of an RFC 3502 MULTIAPPEND — which the command then reads with `rest()`: framed like a command
 * (each further literal judged by the same gate, `+` sent for it), its last literal possibly
 * streamed again.
 */
export interface StreamedLiteral extends AsyncIterable<Buffer> {
  readonly size: number;
  /**
   * After the literal has been read: the rest of the command — text segments and literals as in
   * FramedCommand, `text[0]` starting right after the literal — or null when the command ended
   * with it. Throws StreamedLiteralError when the rest holds no literal (bytes after the message)
   * or the input ends, and LiteralRefusedError when the gate refuses one of its literals.
   */
  rest(): Promise<FramedCommand | null>;
  /** Reads (and drops) whatever the command has not read, up to the command's end. */
  drain(): Promise<void>;
  /** Why the literal, or the rest of its command, could not be read, once that failed. */
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

/** A literal after a streamed one was refused by the gate: the command answers with `refusal`. */
export class LiteralRefusedError extends Error {
  constructor(readonly refusal: LiteralRefusal) {
    super(refusal.text);
    this.name = 'LiteralRefusedError';
  }
}

/** What a streamed literal needs to frame the rest of its command. */
interface StreamContext {
  gate: LiteralGate;
  firstLine: string;
  maxLineLength: number;
  maxCommandSize: number;
  maxLiterals: number;
  /** Literals of the command before this one. */
  index: number;
  /** Bytes of the command up to the end of this literal. */
  commandSize: number;
  /** Shared by every streamed literal of one command: the first failure of any of them. */
  chain: { failure: Error | null };
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
            line: line.text,
            ...marker,
            index: literals.length,
            commandSize: this.pendingSize,
            exceeds,
          });
          if (verdict !== null && 'stream' in verdict) {
            literals.push([]);
            text.push('');
            this.pendingSize += marker.size;
            const streamed = this.streamLiteral(marker.size, {
              gate: onLiteral,
              firstLine: text[0]!,
              maxLineLength,
              maxCommandSize,
              maxLiterals,
              index: literals.length - 1,
              commandSize: this.pendingSize,
              chain: { failure: null },
            });
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
  private streamLiteral(size: number, sc: StreamContext): StreamedLiteral {
    this.streaming = true;
    const { maxLineLength, chain } = sc;
    let left = size;
    let finished = false;
    let started = false;
    let ready: Buffer[] = [];
    /** The line after the literal when it goes on with more of the command; rest() frames it. */
    let continued: string | null = null;
    let restTaken = false;
    /** The streamed literal that ends the rest, when there is one: drained after this one. */
    let next: StreamedLiteral | null = null;
    const fail = (err: Error, fatal = false): never => {
      chain.failure ??= err;
      finished = true;
      continued = null;
      if (fatal) this.fail(err.message);
      this.streaming = false;
      throw err;
    };
    const closed = (what: string): never => fail(new StreamedLiteralError(`Connection closed ${what}`, true));
    /** The next piece of the literal, or null once it and the line after it are read. */
    const piece = async (): Promise<Buffer | null> => {
      if (chain.failure) throw chain.failure;
      if (finished) return null;
      while (left > 0 && ready.length === 0) {
        if (this.queue.length === 0) {
          if (this.ended || this.fatalReason !== null) return closed('in the middle of the literal');
          await this.waitForData();
          continue;
        }
        // Whatever is buffered, as the slices it arrived in; handed out one at a time.
        ready = this.queue.takeChunks(left);
        for (const b of ready) left -= b.length;
      }
      if (ready.length > 0) return ready.shift()!;
      const line = await this.readLine(maxLineLength);
      if (line === null) return closed('before the end of the command');
      if (line === TOO_LONG) return fail(new StreamedLiteralError(`Line longer than ${maxLineLength} bytes`, true), true);
      finished = true;
      sc.commandSize += line.consumed;
      if (line.text !== '') continued = line.text;
      else this.streaming = false;
      return null;
    };
    /** The rest of the command after the literal, framed; `discard` drops its literals instead. */
    const frameRest = async (discard: boolean): Promise<FramedCommand | null> => {
      if (!finished) throw new Error('StreamedLiteral.rest() before the literal was read');
      if (chain.failure) throw chain.failure;
      if (restTaken) throw new Error('StreamedLiteral.rest() called twice');
      restTaken = true;
      if (continued === null) return null;
      const text: string[] = [continued];
      const literals: Buffer[][] = [];
      let index = sc.index + 1;
      for (;;) {
        const marker = findLiteralMarker(text[text.length - 1]!);
        if (marker === 'invalid') return fail(new StreamedLiteralError('Invalid literal size', true), true);
        if (marker === null) {
          this.streaming = false;
          // Every message of an APPEND ends with its literal: text without one is not a message —
          // except an RFC 4469 CATENATE made of URLs alone, which the command parses (and refuses
          // with BAD if it is not one).
          if (literals.length === 0 && !discard && !/\bCATENATE\s*\(/i.test(text[0]!)) {
            return fail(new StreamedLiteralError('Unexpected data after the message literal', false));
          }
          return { text, literals, size: sc.commandSize };
        }
        const exceeds = index >= sc.maxLiterals ? 'literals' : sc.commandSize + marker.size > sc.maxCommandSize ? 'commandSize' : null;
        if (discard && !marker.nonSync) {
          // The command has answered already: a client waiting for "+" gets the tagged reply
          // instead and abandons the command (RFC 3501 §7.5), so nothing more of it comes.
          this.streaming = false;
          return null;
        }
        if (discard) {
          if (exceeds) return fail(new StreamedLiteralError('Command too large', true), true);
        } else {
          const verdict = await sc.gate({ firstLine: sc.firstLine, line: text[text.length - 1]!, ...marker, index, commandSize: sc.commandSize, exceeds, afterStreamed: true });
          if (verdict !== null && 'stream' in verdict) {
            literals.push([]);
            text.push('');
            sc.commandSize += marker.size;
            next = this.streamLiteral(marker.size, { ...sc, index, commandSize: sc.commandSize });
            return { text, literals, size: sc.commandSize, streamed: next };
          }
          if (verdict !== null && verdict.reject) {
            // RFC 7888 §4: a refused non-synchronising literal is on its way anyway; we close.
            if (marker.nonSync) return fail(new StreamedLiteralError(verdict.reason ?? 'Non-synchronizing literal rejected', true), true);
            this.streaming = false;
            return fail(new LiteralRefusedError(verdict.refusal ?? { status: 'NO', text: verdict.reason ?? 'Literal refused' }));
          }
          if (exceeds === 'literals') return fail(new StreamedLiteralError('Too many literals in one command', true), true);
          if (exceeds === 'commandSize') return fail(new StreamedLiteralError('Command too large', true), true);
        }
        const body = discard ? await this.skipBytes(marker.size) : await this.readBytes(marker.size);
        if (body === null) return closed('in the middle of a literal');
        sc.commandSize += marker.size;
        index++;
        literals.push(body);
        const line = await this.readLine(maxLineLength);
        if (line === null) return closed('before the end of the command');
        if (line === TOO_LONG) return fail(new StreamedLiteralError(`Line longer than ${maxLineLength} bytes`, true), true);
        sc.commandSize += line.consumed;
        text.push(line.text);
      }
    };
    return {
      size,
      get failure() {
        return chain.failure;
      },
      [Symbol.asyncIterator]() {
        if (started) throw new Error('A streamed literal can be read once');
        started = true;
        return {
          next: async (): Promise<IteratorResult<Buffer>> => {
            const p = await piece();
            return p === null ? { done: true, value: undefined } : { done: false, value: p };
          },
        };
      },
      rest: () => frameRest(false),
      async drain() {
        started = true;
        try {
          while ((await piece()) !== null);
          if (!restTaken) await frameRest(true);
          else if (next) await next.drain();
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

  /** Reads and drops exactly `n` bytes (a literal of a command that has answered already); [] when done. */
  private skipBytes(n: number): Promise<Buffer[] | null> {
    return this.takeBytes(n, false);
  }

  /** Exactly `n` bytes as slices of the chunks they arrived in (counted in `commandBytes` as they come). */
  private readBytes(n: number): Promise<Buffer[] | null> {
    return this.takeBytes(n, true);
  }

  /**
   * Exactly `n` bytes off the queue as they arrive; null when the input ends first. Kept bytes are
   * returned and counted in `commandBytes` (they are held for the command); dropped ones are
   * neither, since nothing holds them.
   */
  private async takeBytes(n: number, keep: boolean): Promise<Buffer[] | null> {
    const out: Buffer[] = [];
    // Each wake-up empties the queue, so a literal trickled a byte per segment would come out as a
    // Buffer per byte (~200 bytes of heap each; review): small pieces after the first are copied together.
    const gather = new SliceGatherer();
    let left = n;
    while (left > 0) {
      if (this.queue.length === 0) {
        if (this.ended || this.fatalReason !== null) return null;
        await this.waitForData();
        continue;
      }
      for (const b of this.queue.takeChunks(left)) {
        left -= b.length;
        if (!keep) continue;
        gather.add(out, b, left);
        this.pendingSize += b.length;
      }
    }
    return out;
  }
}

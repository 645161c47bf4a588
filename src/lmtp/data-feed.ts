/**
 * smtp-server's DATA parser, made cheap per megabyte. Its own `SMTPStream#_feedDataStream` looks at
 * every byte in JavaScript for a dot after a line feed, and first joins each socket chunk to the
 * previous chunk's last 4 bytes (a copy of the whole message). Together with its stream plumbing
 * that was 3.5 ms of event-loop CPU per megabyte — more than any other step of a 1 MB delivery
 * (bench/lmtp-steps.ts, bench/RESULTS.md).
 *
 * This is the same parser with the scan done by `Buffer#indexOf('\n.')` (native, a call per line
 * that starts with a dot rather than per byte) and without the copy when the carried bytes cannot
 * be part of a dot sequence. It keeps the library's rules and state exactly — which dot ends the
 * data (CRLF "." CRLF, RFC 5321 §4.1.1.4), which is an escape (RFC 5321 §4.5.2), the 4 carried
 * bytes, the start-of-data marker that stops a terminator from being smuggled across chunk
 * boundaries, byte counting for SIZE and backpressure on the data stream — so everything else in
 * smtp-server (state machine, replies, pipelining) is unchanged. test/unit/lmtp-data-feed.test.ts
 * feeds both parsers the same inputs cut every way and compares what they emit.
 *
 * Installed per connection by protocol.ts, on the parser smtp-server makes; used only when that
 * parser has the fields this relies on (smtp-server 3.x), else the library's own stays.
 */
import type { PassThrough } from 'node:stream';

/** The parts of smtp-server's SMTPStream the DATA feed reads and writes. */
export interface SmtpDataParser {
  _dataStream: (PassThrough & { byteLength?: number; sizeExceeded?: boolean }) | null;
  _lastBytes: Buffer | false;
  _atDataStart: boolean;
  _countDataBytes(len: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, callback: (err?: Error | null) => void): void;
  _feedDataStream(chunk: Buffer, done: (err?: Error | null) => void): void;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');
const DOT_CRLF = Buffer.from('.\r\n');
/**
 * What is carried when the chunk's last bytes cannot begin an end marker or an escape: nothing.
 * (The library always carries 4 bytes, and they reach the data stream as a write of their own,
 * which its reader's read() then joins with the next chunk: one more copy of the whole message.)
 */
const NOTHING = Buffer.alloc(0);

/** Whether `parser` looks like the SMTPStream this feed was written against. */
export function canFeedFast(parser: object): parser is SmtpDataParser {
  const p = parser as Partial<SmtpDataParser>;
  return typeof p._feedDataStream === 'function' && typeof p._countDataBytes === 'function' && typeof p._endDataMode === 'function' && '_lastBytes' in p && '_atDataStart' in p;
}

/** Replaces the parser's DATA feed with feedData (below). */
export function installFastDataFeed(parser: object): boolean {
  if (!canFeedFast(parser)) return false;
  parser._feedDataStream = feedData;
  return true;
}

/** Writes `piece` to the data stream, counted; false when the stream wants to drain first. */
function emit(parser: SmtpDataParser, piece: Buffer): boolean {
  if (piece.length === 0) return true;
  parser._countDataBytes(piece.length);
  const stream = parser._dataStream!;
  return stream.writable ? stream.write(piece) : true;
}

/**
 * One chunk of DATA: the bytes up to the end marker go to the data stream with escape dots
 * removed; at the end marker, data mode ends and what follows is handed back as commands.
 */
export function feedData(this: SmtpDataParser, input: Buffer, done: (err?: Error | null) => void): void {
  let chunk = input;
  // The first position where a dot may be looked at: the library starts at 2 (it carries 4
  // bytes, and a dot among the first two of them was decided in the previous chunk); 1 when the
  // bytes before the chunk were emitted already, or fewer than 4 were carried after some were
  // emitted (then only the last two carried positions are undecided, as with 4).
  let firstDot = 2;
  const carried = this._lastBytes;
  this._lastBytes = false;
  if (carried === NOTHING && !this._atDataStart) {
    // The previous chunk ended in bytes that were all content: a LF at index 0 ends a line.
    firstDot = 1;
  } else if (carried && carried.length > 0) {
    if (!this._atDataStart && carried.indexOf(CR) === -1 && carried.indexOf(LF) === -1) {
      // No CR or LF among them: no end marker or escape dot can begin in them, so they are
      // content, and the chunk is scanned as it is (a dot at its index 1 after a LF at 0 counts).
      emit(this, carried);
      firstDot = 1;
    } else {
      if (carried.length < 4 && !this._atDataStart) firstDot = 1;
      chunk = Buffer.concat([carried, chunk], carried.length + chunk.length);
    }
  }
  let len = chunk.length;
  if (this._atDataStart && len >= 3 && chunk[0] === DOT && chunk.compare(DOT_CRLF, 0, 3, 0, 3) === 0) {
    this._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  if (this._atDataStart && len >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    chunk = chunk.subarray(1);
    len--;
    this._atDataStart = false;
  }
  let start = 0; // the first byte not yet emitted
  for (let at = chunk.indexOf(LF_DOT, firstDot - 1); at !== -1; at = chunk.indexOf(LF_DOT, at + 1)) {
    const dot = at + 1;
    if (dot >= len - 2) break; // too near the end to tell: carried to the next chunk
    if (dot >= 2 && chunk[dot - 2] === CR && chunk[dot + 1] === CR && chunk[dot + 2] === LF) {
      // CRLF . CRLF: the CRLF before the dot ends the last line and is content.
      const last = chunk.subarray(start, dot);
      if (last.length > 0) this._countDataBytes(last.length);
      this._endDataMode(last.length > 0 ? last : false, chunk.subarray(dot + 3), done);
      return;
    }
    if (chunk[dot + 1] === DOT) {
      // An escape dot: what came before is content, the dot is dropped.
      emit(this, chunk.subarray(start, dot));
      start = dot + 1;
    }
  }
  const rest = chunk.subarray(start);
  // The last 4 bytes wait for the next chunk when an end marker (CR LF . CR LF) or an escape
  // (LF .) may straddle the boundary: only when one of them is a CR or LF, since both begin with
  // one. While nothing has been emitted, the start-of-data checks need them, as in the library.
  let keep = Math.min(4, rest.length);
  const tail = rest.subarray(rest.length - keep);
  if (keep === 4 && !this._atDataStart && tail.indexOf(CR) === -1 && tail.indexOf(LF) === -1) keep = 0;
  this._lastBytes = keep === 0 ? NOTHING : tail;
  const out = rest.subarray(0, rest.length - keep);
  if (out.length === 0) return done();
  const stream = this._dataStream!;
  if (emit(this, out) || stream.destroyed) return done();
  // A stream the application destroys never drains, it only closes.
  const onDrain = (): void => {
    stream.removeListener('drain', onDrain);
    stream.removeListener('close', onDrain);
    done();
  };
  stream.once('drain', onDrain);
  stream.once('close', onDrain);
}

/**
 * Responses → bytes. Each value picks the safest wire form (RFC 3501 §4): atom, number, quoted
 * string, or literal; large bodies stay streams so they are never held twice in memory.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { atom, type ConcatValue, type ImapValue, type Response, type ResponseCode } from './types.js';

export type EncodedChunk = Buffer | { size: number; stream: () => AsyncIterable<Buffer> };

export interface EncodeOptions {
  /** UTF8=ACCEPT is on (RFC 6855 §3): valid UTF-8 may travel in quoted strings. */
  utf8?: boolean;
}

/** Longest string sent quoted; longer ones go as literals. */
const MAX_QUOTED = 1024;
/** Strings up to this length are copied into the scratch space by a loop rather than Buffer.write. */
const SHORT_STRING = 32;
/** Buffers at least this large are passed on as their own chunk instead of being copied. */
const LARGE_BUFFER = 16 * 1024;

const CRLF = '\r\n';

/**
 * Bytes are written straight into one scratch Buffer shared by every encode call — encoding is
 * synchronous and never nested, so one writer at a time uses it — and copied out once per run of
 * small pieces. Before, text accumulated as a JavaScript string (a cons-string per piece, then a
 * flattened copy for Buffer.from): for a 25-message FETCH ENVELOPE page that was ~170 KB of
 * short-lived heap per command, and the young-generation GCs it drives land between one client's
 * commands as latency (bench/RESULTS.md, issue 23). Now the heap sees one Buffer per chunk.
 */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);
/** A scratch space grown beyond this (a huge SEARCH answer) is not kept for the next call. */
const SCRATCH_KEEP = 256 * 1024;

/**
 * Collects output, merging consecutive small pieces (text and small Buffers) into one Buffer;
 * Buffers of LARGE_BUFFER or more and streams stay chunks of their own.
 */
class ChunkWriter {
  readonly chunks: EncodedChunk[] = [];
  /**
   * Where the current run of small pieces starts in `scratch`, and where the next byte goes. Every
   * writer starts at 0: whatever an earlier one left there (one that threw mid-value) is written over.
   */
  private start = 0;
  private pos = 0;

  /** Room for `n` more bytes in the scratch space (kept bytes moved along when it grows). */
  private room(n: number): void {
    if (this.pos + n <= scratch.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, this.pos + n));
    scratch.copy(grown, 0, this.start, this.pos);
    this.pos -= this.start;
    this.start = 0;
    scratch = grown;
  }

  text(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(s.length * 3);
    if (s.length <= SHORT_STRING) {
      // Atoms and item names: a loop costs less than a call into Buffer.write for a few bytes.
      const at = this.pos;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = at + scratch.write(s, at, 'utf8');
          return;
        }
        scratch[at + i] = c;
      }
      this.pos = at + s.length;
      return;
    }
    this.pos += scratch.write(s, this.pos, 'utf8');
  }

  /** A 7-bit string (checked by the caller): one byte per unit. */
  ascii(s: string): void {
    this.room(s.length);
    if (s.length <= SHORT_STRING) {
      for (let i = 0; i < s.length; i++) scratch[this.pos + i] = s.charCodeAt(i);
      this.pos += s.length;
      return;
    }
    this.pos += scratch.write(s, this.pos, 'latin1');
  }

  /**
   * A string that may go quoted as it is (7-bit, no NUL, CR or LF), quoted with " and \ escaped;
   * false, with nothing written, when it may not. One pass instead of a test and a copy.
   */
  quotedAscii(s: string): boolean {
    this.room(s.length * 2 + 2);
    const at = this.pos;
    let p = at;
    scratch[p++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c === 0x0d || c === 0x0a || c >= 0x80) return false;
      if (c === 0x22 || c === 0x5c) scratch[p++] = 0x5c;
      scratch[p++] = c;
    }
    scratch[p++] = 0x22;
    this.pos = p;
    return true;
  }

  byte(c: number): void {
    this.room(1);
    scratch[this.pos++] = c;
  }

  /** A non-negative safe integer, in decimal, without a string. */
  number(n: number): void {
    // The general encoder's rule (writeValue): a store's bad number is an error, not wrong digits or
    // a write past the 16 bytes reserved here.
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not an IMAP number: ${n}`);
    this.room(16);
    if (n < 10) {
      scratch[this.pos++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = this.pos + digits;
    this.pos = at;
    let x = n;
    while (x >= 10) {
      const q = Math.floor(x / 10);
      scratch[--at] = 0x30 + (x - q * 10);
      x = q;
    }
    scratch[--at] = 0x30 + x;
  }

  bytes(b: Buffer): void {
    if (b.length >= LARGE_BUFFER) {
      this.flush();
      this.chunks.push(b);
    } else if (b.length > 0) {
      this.room(b.length);
      this.pos += b.copy(scratch, this.pos);
    }
  }

  stream(size: number, stream: () => AsyncIterable<Buffer>): void {
    this.flush();
    this.chunks.push({ size, stream });
  }

  /** Where the next byte goes, for since(): the bytes written after this point. */
  mark(): { chunks: number; at: number } {
    return { chunks: this.chunks.length, at: this.pos - this.start };
  }

  /**
   * A copy, in memory of its own, of what was written since `mark` — undefined when that went out
   * in pieces (a large Buffer or a stream among it). Its own memory: a small Buffer.from() copy
   * would share (and keep alive) an 8 KB pool slab.
   */
  since(mark: { chunks: number; at: number }): Buffer | undefined {
    if (this.chunks.length !== mark.chunks) return undefined;
    const from = this.start + mark.at;
    const out = Buffer.allocUnsafeSlow(this.pos - from);
    scratch.copy(out, 0, from, this.pos);
    return out;
  }

  /**
   * Drops what was written since `mark` (a response whose encoding threw half way): the bytes
   * before it stay, as if the response had never been started.
   */
  rewind(mark: { chunks: number; at: number }): void {
    if (this.chunks.length === mark.chunks) {
      this.pos = this.start + mark.at;
      return;
    }
    // A flush (a large Buffer, a stream) came after the mark: its first chunk holds the bytes
    // before the mark followed by some of the response's.
    const first = this.chunks[mark.chunks];
    this.chunks.length = mark.chunks;
    if (mark.at > 0 && Buffer.isBuffer(first)) this.chunks.push(first.subarray(0, mark.at));
    this.start = this.pos;
  }

  flush(): void {
    if (this.pos === this.start) return;
    // A copy of its own: the scratch space is written over by the next call. (allocUnsafe and
    // copy: no view of the scratch made just to be copied, ~30 ns less per response.)
    const out = Buffer.allocUnsafe(this.pos - this.start);
    scratch.copy(out, 0, this.start, this.pos);
    this.chunks.push(out);
    this.start = this.pos;
  }

  done(): EncodedChunk[] {
    this.flush();
    if (scratch.length > SCRATCH_KEEP) scratch = Buffer.allocUnsafeSlow(16 * 1024);
    return this.chunks;
  }
}

/** Strings: the common 7-bit case is quoted as text, without a detour through a Buffer. */
function writeText(w: ChunkWriter, s: string, utf8: boolean): void {
  // For a 7-bit string, length in UTF-16 units is its length in octets.
  if (s.length <= MAX_QUOTED && w.quotedAscii(s)) return;
  writeString(w, Buffer.from(s, 'utf8'), utf8);
}

/** True when the bytes may be sent as a quoted string (RFC 3501 §9: quoted = DQUOTE *QUOTED-CHAR DQUOTE). */
function quotable(b: Buffer, utf8: boolean): boolean {
  if (b.length > MAX_QUOTED) return false;
  let eightBit = false;
  for (const c of b) {
    if (c === 0x0d || c === 0x0a || c === 0) return false;
    if (c >= 0x80) {
      if (!utf8) return false;
      eightBit = true;
    }
  }
  return !eightBit || isUtf8(b);
}

function writeString(w: ChunkWriter, b: Buffer, utf8: boolean): void {
  if (quotable(b, utf8)) {
    w.byte(0x22);
    let start = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === 0x22 || c === 0x5c) {
        w.bytes(b.subarray(start, i));
        w.byte(0x5c);
        start = i;
      }
    }
    w.bytes(start === 0 ? b : b.subarray(start));
    w.byte(0x22);
  } else {
    w.byte(0x7b);
    w.number(b.length);
    w.ascii(`}${CRLF}`);
    w.bytes(b);
  }
}

function writeValue(w: ChunkWriter, v: ImapValue, utf8: boolean): void {
  if (v === null) return w.ascii('NIL');
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not an IMAP number: ${v}`);
    return w.number(v);
  }
  if (typeof v === 'bigint') return w.ascii(v.toString());
  if (typeof v === 'string') return writeText(w, v, utf8);
  if (Buffer.isBuffer(v)) return writeString(w, v, utf8);
  if (Array.isArray(v)) {
    w.byte(0x28);
    for (let i = 0; i < v.length; i++) {
      if (i > 0) w.byte(0x20);
      writeValue(w, v[i]!, utf8);
    }
    return w.byte(0x29);
  }
  if (v.kind === 'atom') return w.text(v.text);
  if (v.kind === 'concat') {
    const kept = (v as KeptValue)[KEPT];
    if (kept) return writeKept(w, v as KeptValue, kept, utf8);
    for (const item of v.items) writeValue(w, item, utf8);
    return;
  }
  // literal(): always a literal; literal8 (RFC 3516) is announced with "~".
  w.text(`${v.binary ? '~' : ''}{${v.size}}${CRLF}`);
  if (Buffer.isBuffer(v.data)) w.bytes(v.data);
  else w.stream(v.size, v.data);
}

/** The bytes of a kept value, once written: one slot per form (with and without UTF8=ACCEPT). */
const KEPT = Symbol('kept encoding');
interface KeptValue extends ConcatValue {
  [KEPT]?: { plain?: Buffer; utf8?: Buffer };
}

/**
 * A value tree that is written again and again unchanged — a message's ENVELOPE, BODY and
 * BODYSTRUCTURE, kept per structure by the FETCH renderer — wrapped so that its bytes are made on
 * its first write and copied on every later one, instead of walking the tree each time (a page of
 * 100 ENVELOPEs is ~1,000 small strings). The tree must never change after this call (the
 * renderer's trees never do). Writes exactly what writing `tree` itself writes.
 */
export function keptEncoding(tree: ImapValue): ConcatValue {
  const v: KeptValue = { kind: 'concat', items: [tree] };
  v[KEPT] = {};
  return v;
}

function writeKept(w: ChunkWriter, v: KeptValue, kept: { plain?: Buffer; utf8?: Buffer }, utf8: boolean): void {
  const bytes = utf8 ? kept.utf8 : kept.plain;
  if (bytes) return w.bytes(bytes);
  const mark = w.mark();
  writeValue(w, v.items[0]!, utf8);
  const made = w.since(mark);
  if (made === undefined) return;
  if (isAscii(made)) {
    // The only difference UTF8=ACCEPT makes to a value is how a string holding a byte over 0x7f is
    // written (quotable()), and such a string leaves that byte in the output either way — so 7-bit
    // bytes are both forms. Kept for both, the tree is never walked again and goes: a structure
    // cache full of messages' ENVELOPE and BODYSTRUCTURE trees held ~2 KB of small objects per
    // message for the garbage collector to trace, beside ~0.4 KB of bytes (issue 23).
    kept.plain = kept.utf8 = made;
    v.items.length = 0;
    return;
  }
  if (utf8) kept.utf8 = made;
  else kept.plain = made;
}

/**
 * Human-readable text (RFC 3501 §9 text = 1*TEXT-CHAR, "any CHAR except CR and LF", CHAR being
 * %x01-7F): CR and LF become spaces, and before UTF8=ACCEPT anything outside 7-bit (a Unicode
 * mailbox name in an error message, 8-bit input echoed back) becomes "?", so no client meets 8-bit
 * bytes where the grammar promises none.
 */
function oneLine(text: string, utf8: boolean): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return utf8 ? flat.replace(/\0/g, '?') : flat.replace(/[^\x01-\x7f]/gu, '?');
}

function writeCode(w: ChunkWriter, code: ResponseCode, utf8: boolean): void {
  w.text(`[${code.name}`);
  for (const arg of code.args ?? []) {
    w.text(' ');
    writeValue(w, arg, utf8);
  }
  w.text(']');
}

export function encodeValue(v: ImapValue, options: EncodeOptions = {}): EncodedChunk[] {
  const w = new ChunkWriter();
  writeValue(w, v, options.utf8 === true);
  return w.done();
}

export function encodeResponse(r: Response, options: EncodeOptions = {}): EncodedChunk[] {
  const utf8 = options.utf8 === true;
  const w = new ChunkWriter();
  switch (r.type) {
    case 'data':
      w.byte(0x2a);
      for (let i = 0; i < r.values.length; i++) {
        w.byte(0x20);
        writeValue(w, r.values[i]!, utf8);
      }
      break;
    case 'status': {
      w.text(`${r.tag} ${r.status}`);
      if (r.code) {
        w.text(' ');
        writeCode(w, r.code, utf8);
      }
      const text = oneLine(r.text, utf8);
      if (text.length > 0) w.text(` ${text}`);
      break;
    }
    case 'continuation':
      // RFC 3501 §9: continue-req = "+" SP (resp-text / base64) CRLF — the space is always there.
      w.text(`+ ${oneLine(r.text, utf8)}`);
      break;
  }
  w.ascii(CRLF);
  return w.done();
}

/**
 * `* seq FETCH (UID n FLAGS (...) MODSEQ (m))` + CRLF as text, for the items a session's view
 * answers alone — the shape of a client's flag resync (`UID FETCH 1:* (UID FLAGS)`), which on a
 * 100,000-message mailbox is 100,000 responses. It writes exactly what encodeResponse writes for
 * the same values (the unit tests compare the two) without building a value tree per message.
 * Flags are atoms by construction: the parser accepted them as flag atoms before any store kept them.
 */
export function viewFetchLine(seq: number, order: readonly ('UID' | 'FLAGS')[], uid: number, flags: readonly string[], modseq?: number, uidOnly = false): string {
  let line = uidOnly ? `* ${uid} UIDFETCH (` : `* ${seq} FETCH (`;
  for (let i = 0; i < order.length; i++) {
    if (i > 0) line += ' ';
    line += order[i] === 'UID' ? `UID ${uid}` : `FLAGS (${flags.join(' ')})`;
  }
  if (modseq !== undefined) line += ` MODSEQ (${modseq})`;
  return `${line})${CRLF}`;
}

/**
 * viewFetchLine() for a run of messages, written straight into the encoder's scratch space and
 * handed out as one Buffer: no string per line, no cons-string of the run and no flattened copy
 * for the UTF-8 encode — the text form allocated ~13 KB of short-lived heap for a 200-message
 * `UID FETCH n:* (FLAGS)` (bench/RESULTS.md, issue 23). The bytes are exactly viewFetchLine()'s
 * (the unit tests compare them). Like every encode it uses the shared scratch space, so nothing
 * else may be encoded between the first line() and done(): callers fill it in one synchronous loop.
 */
export class FetchLineWriter {
  private readonly w = new ChunkWriter();

  line(seq: number, order: readonly ('UID' | 'FLAGS')[], uid: number, flags: readonly string[], modseq?: number, uidOnly = false): void {
    const w = this.w;
    w.ascii('* ');
    w.number(uidOnly ? uid : seq);
    w.ascii(uidOnly ? ' UIDFETCH (' : ' FETCH (');
    for (let i = 0; i < order.length; i++) {
      if (i > 0) w.byte(0x20);
      if (order[i] === 'UID') {
        w.ascii('UID ');
        w.number(uid);
      } else {
        w.ascii('FLAGS (');
        for (let f = 0; f < flags.length; f++) {
          if (f > 0) w.byte(0x20);
          w.text(flags[f]!);
        }
        w.byte(0x29);
      }
    }
    if (modseq !== undefined) {
      w.ascii(' MODSEQ (');
      w.number(modseq);
      w.byte(0x29);
    }
    w.ascii(')\r\n');
  }

  /** The lines written, as one Buffer (none when no line was written): only bytes go in, never a stream. */
  done(): Buffer[] {
    return this.w.done() as Buffer[];
  }
}

/**
 * The FETCH responses of a page, written straight into the encoder's scratch space and handed out
 * as one Buffer per run (take()) instead of a value array, a Response and a Buffer per message:
 * a 25-message ENVELOPE page was the persistent client's largest allocator (bench/RESULTS.md,
 * issue 23). response() writes exactly what encodeResponse() writes for
 * `{ type: 'data', values: [...fetchHead(seq, uid, uidOnly), values] }` (the unit tests compare
 * the two). Like every encode it uses the shared scratch space: nothing else may be encoded between
 * a response() and the take() after it, so callers take() before every await.
 */
export class FetchPageWriter {
  private w = new ChunkWriter();

  constructor(private readonly utf8: boolean) {}

  response(seq: number, uid: number, uidOnly: boolean, values: readonly ImapValue[]): void {
    const w = this.w;
    const mark = w.mark();
    try {
      w.ascii('* ');
      writeValue(w, uidOnly ? uid : seq, this.utf8);
      w.ascii(uidOnly ? ' UIDFETCH ' : ' FETCH ');
      writeValue(w, values as ImapValue[], this.utf8);
      w.ascii(CRLF);
    } catch (err) {
      // As encodeResponse(): a response that cannot be encoded sends nothing; those before it stay.
      w.rewind(mark);
      throw err;
    }
  }

  /** The responses written since the last take(), as Buffers (none when nothing was written). */
  take(): Buffer[] {
    const out = this.w.done() as Buffer[];
    this.w = new ChunkWriter();
    return out;
  }
}

/** Made once: every FETCH response names one of them. */
const FETCH_ATOM = atom('FETCH');
const UIDFETCH_ATOM = atom('UIDFETCH');

/**
 * The start of a FETCH response: `seq FETCH`, or once UIDONLY is on `uid UIDFETCH` (RFC 9586 §3:
 * no sequence numbers in responses; the message is named by its UID).
 */
export function fetchHead(seq: number, uid: number, uidOnly: boolean): [number, ImapValue] {
  return uidOnly ? [uid, UIDFETCH_ATOM] : [seq, FETCH_ATOM];
}

/** RFC 3501 §9 ATOM-CHAR: any CHAR except atom-specials. */
function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && !'(){%*"\\]'.includes(String.fromCharCode(c));
}

/** A mailbox name or other astring: an atom when it safely can be, else a string. */
export function astring(text: string): ImapValue {
  if (text.length === 0 || text.toUpperCase() === 'NIL') return text;
  for (let i = 0; i < text.length; i++) if (!isAtomChar(text.charCodeAt(i))) return text;
  return atom(text);
}

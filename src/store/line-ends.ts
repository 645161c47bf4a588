/**
 * Message bytes are CRLF at the store contract (RFC 5322 §2.1: CR and LF occur only together).
 *
 * Mail reaches Postroom with bare LF often enough — `postroom deliver` fed from a Unix MDA, an
 * mbox import, a client that APPENDs what it read from a file — and a store may serve messages it
 * got from elsewhere. If those bytes were kept as they are, the sizes the protocols announce would
 * disagree with the bytes they send: POP3 RETR must send CRLF lines, so LIST (the stored size) and
 * RETR would differ, and IMAP RFC822.SIZE must equal the length of BODY[] (RFC 3501 §6.4.5).
 *
 * So every bare LF, and every CR not followed by LF, becomes CRLF — the same rule the POP3 encoder
 * applies on the wire — and nothing else changes (no line is added at the end). This file is the
 * only place that does it; `crlfStore()` applies it on the way into every store and, for a store
 * that does not declare `lineEnds: 'crlf'`, on the way out as well (see docs/store.md).
 */
import { lineScanner } from '../util/line-scan.js';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
/** The SIMD check (src/util/line-scan.ts), for buffers of at least SCAN_MIN bytes; null where WebAssembly is missing. */
const simd = lineScanner();
/** Below this, two indexOf walks cost less than copying into the scanner's memory and calling it. */
const SCAN_MIN = 256;

/** True when every CR is followed by LF and every LF preceded by CR. */
export function isCrlf(buf: Buffer): boolean {
  if (simd && buf.length >= SCAN_MIN) return simd.isCrlf(buf);
  return isCrlfByIndexOf(buf);
}

/** isCrlf by Buffer#indexOf: two native calls per line (exported for the tests that compare both). */
export function isCrlfByIndexOf(buf: Buffer): boolean {
  let at = buf.indexOf(LF);
  while (at !== -1) {
    if (at === 0 || buf[at - 1] !== CR) return false;
    at = buf.indexOf(LF, at + 1);
  }
  at = buf.indexOf(CR);
  while (at !== -1) {
    if (buf[at + 1] !== LF) return false;
    at = buf.indexOf(CR, at + 1);
  }
  return true;
}

/** isCrlf over consecutive chunks (a CR may end one chunk and its LF start the next). */
export function chunksAreCrlf(chunks: readonly Buffer[]): boolean {
  let prev = -1;
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    const head = chunk[0] === LF ? (prev === CR ? 1 : -1) : 0;
    if (head < 0) return false;
    if (prev === CR && chunk[0] !== LF) return false;
    const body = chunk.subarray(head, chunk[chunk.length - 1] === CR ? chunk.length - 1 : chunk.length);
    if (!isCrlf(body)) return false;
    prev = chunk[chunk.length - 1]!;
  }
  return prev !== CR;
}

/**
 * Normalises a stream of chunks. A CR is written as CRLF at once; when the next chunk starts with
 * the LF that belonged to it, that LF is dropped — so nothing is ever held back between chunks.
 */
export class CrlfNormalizer {
  private skipLf = false;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const skip = this.skipLf && chunk[0] === LF;
    this.skipLf = false;
    if (!skip && chunk[0] !== LF && chunk[chunk.length - 1] !== CR && isCrlf(chunk)) return chunk;
    const out: Buffer[] = [];
    let from = skip ? 1 : 0;
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) {
        if (i + 1 === chunk.length) {
          if (i > from) out.push(chunk.subarray(from, i));
          out.push(CRLF);
          this.skipLf = true;
          from = chunk.length;
        } else if (chunk[i + 1] === LF) {
          i += 1; // a proper CRLF is copied as it is
        } else {
          if (i > from) out.push(chunk.subarray(from, i));
          out.push(CRLF);
          from = i + 1;
        }
      } else if (b === LF) {
        if (i > from) out.push(chunk.subarray(from, i));
        out.push(CRLF);
        from = i + 1;
      }
    }
    if (from < chunk.length) out.push(chunk.subarray(from));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }
}

/** The message with CRLF line ends; the same buffer when it already has them. */
export function toCrlf(buf: Buffer): Buffer {
  if (isCrlf(buf)) return buf;
  return new CrlfNormalizer().push(buf);
}

/** A stream of chunks with CRLF line ends. */
export async function* crlfChunks(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const n = new CrlfNormalizer();
  for await (const chunk of source) {
    const out = n.push(chunk);
    if (out.length > 0) yield out;
  }
}

/** Chunks under this are copied together before they are passed on (gatherSmallChunks). */
const COPY_BELOW = 4096;
const GATHER_SIZE = 16384;

/**
 * The same bytes with chunks under COPY_BELOW copied together, GATHER_SIZE at a time: a literal
 * trickled a byte per TCP segment reaches a store as a stream of one-byte chunks, and a store that
 * keeps the chunks until the end (the PostgreSQL and memory stores do) held a Buffer — ~200 bytes
 * of heap — per byte (review). Larger chunks pass as they are; bytes held here are passed on before
 * the next large chunk and at the end.
 */
export async function* gatherSmallChunks(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let held: Buffer | null = null;
  let used = 0;
  for await (const chunk of source) {
    if (chunk.length >= COPY_BELOW) {
      if (used > 0) yield held!.subarray(0, used);
      held = null;
      used = 0;
      yield chunk;
      continue;
    }
    if (held !== null && used + chunk.length > held.length) {
      yield held.subarray(0, used);
      held = null;
      used = 0;
    }
    held ??= Buffer.allocUnsafeSlow(GATHER_SIZE);
    used += chunk.copy(held, used);
  }
  if (used > 0) yield held!.subarray(0, used);
}

/**
 * Message content (a buffer or chunks) with CRLF line ends. Chunks that announce their size (an
 * IMAP literal, StreamedLiteral.size) keep announcing it, as a lower bound: normalising only adds
 * bytes, and a store that plans by it handles more arriving (src/store/sqlite/content.ts). Without
 * it the SQLite store could not tell a large literal from a small one before its bytes arrived.
 * Small chunks are copied together on the way (gatherSmallChunks).
 */
export function crlfContent(content: Buffer | AsyncIterable<Buffer>): Buffer | AsyncIterable<Buffer> {
  if (Buffer.isBuffer(content)) return toCrlf(content);
  const chunks = gatherSmallChunks(crlfChunks(content));
  const size = (content as { size?: unknown }).size;
  return typeof size === 'number' ? Object.assign(chunks, { size }) : chunks;
}

/**
 * Byte-level helpers shared by the MIME parser: line scanning over a Buffer (so offsets stay exact
 * whether the message uses CRLF or bare LF) and turning header bytes into text.
 */

import { lineScanner } from '../util/line-scan.js';

const LF = 0x0a;
const CR = 0x0d;
/**
 * LFs counted 16 bytes a step (src/util/line-scan.ts) for ranges of at least SCAN_MIN bytes; below
 * that the indexOf walk is cheaper (300 bytes of text: 0.09 µs against 0.30 with the copy and call).
 */
const simd = lineScanner();
const SCAN_MIN = 1024;

/** Offset just past the end of the line starting at `pos` (after its LF), or `end` when unterminated. */
export function lineEnd(raw: Buffer, pos: number, end: number): number {
  // A loop over the bytes, bounded by `end`: its callers walk header lines of tens of bytes, for
  // which Buffer.indexOf (a call into C++ per line, searching on past `end`) cost more than looking
  // at the bytes (bench/RESULTS.md, "Sieve: fixed cost of a run").
  for (let i = pos; i < end; i++) if (raw[i] === LF) return i + 1;
  return end;
}

/** Length of the line terminator ending just before `next` (2 for CRLF, 1 for LF, 0 when none). */
export function eolLength(raw: Buffer, lineStart: number, next: number): number {
  if (next <= lineStart || raw[next - 1] !== LF) return 0;
  return next - 1 > lineStart && raw[next - 2] === CR ? 2 : 1;
}

/** True when the line [pos, next) is empty: just CRLF or LF. */
export function isBlankLine(raw: Buffer, pos: number, next: number): boolean {
  const len = next - pos;
  if (len === 1) return raw[pos] === LF;
  if (len === 2) return raw[pos] === CR && raw[pos + 1] === LF;
  return false;
}

/** Lines in raw[start, end): every LF ends one, and a non-empty unterminated tail is one more. */
export function countLines(raw: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  if (simd && end - start >= SCAN_MIN) return simd.countLf(raw, start, end) + (raw[end - 1] !== LF ? 1 : 0);
  let n = 0;
  let i = raw.indexOf(LF, start);
  while (i >= 0 && i < end) {
    n++;
    i = raw.indexOf(LF, i + 1);
  }
  if (raw[end - 1] !== LF) n++;
  return n;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function isAscii(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i]! > 0x7f) return false;
  return true;
}

/**
 * Header bytes as text. RFC 6532 allows raw UTF-8 in headers; older mail sometimes carries 8-bit
 * bytes in some legacy charset, which we can only guess at, so invalid UTF-8 is read as latin1
 * (every byte maps to one character, nothing is lost).
 */
export function headerText(buf: Buffer): string {
  if (isAscii(buf)) return buf.toString('latin1');
  try {
    return utf8Strict.decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

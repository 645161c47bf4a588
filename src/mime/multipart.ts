/**
 * Splitting a multipart body at its boundaries (RFC 2046 §5.1.1): the preamble before the first
 * delimiter and the epilogue after the close delimiter are ignored, the line break before a
 * delimiter belongs to the delimiter, and a missing close delimiter ends the last part at the end
 * of the enclosing body.
 */
import { eolLength } from './bytes.js';

const LF = 0x0a;
const CR = 0x0d;
const HYPHEN = 0x2d;

/** [start, end) of each body part of the multipart body raw[start, end). */
export function splitMultipart(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = Buffer.from(`--${boundary}`, 'utf8');
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let from = start;
  while (from < end) {
    const at = raw.indexOf(delimiter, from);
    if (at < 0 || at + delimiter.length > end) break;
    from = at + 1;
    if (at !== start && raw[at - 1] !== LF) continue;
    let p = at + delimiter.length;
    const close = raw[p] === HYPHEN && raw[p + 1] === HYPHEN && p + 1 < end;
    if (!close) {
      // Only transport padding may follow a delimiter; "--abc" must not match boundary "ab".
      while (p < end && (raw[p] === 0x20 || raw[p] === 0x09 || raw[p] === CR)) p++;
      if (p < end && raw[p] !== LF) continue;
    }
    if (partStart >= 0) {
      const eol = eolLength(raw, partStart, at);
      ranges.push([partStart, Math.max(partStart, at - eol)]);
    }
    if (close) return ranges;
    const nl = raw.indexOf(LF, p);
    partStart = nl < 0 || nl >= end ? end : nl + 1;
    from = partStart;
  }
  if (partStart >= 0) ranges.push([partStart, end]);
  return ranges;
}

/**
 * Sequence sets (RFC 3501 §9 sequence-set, RFC 5182 "$"). A range may be written either way round
 * ("4:2" is "2:4"); "*" is the largest number in use, resolved only against a mailbox view.
 */
import { ParseError } from './args.js';

export type SeqNumber = number | '*';
export interface SeqRange {
  start: SeqNumber;
  end: SeqNumber;
}
/** The ranges as written, or "$" for the saved search result (RFC 5182). */
export type SequenceSet = { saved: true } | { saved: false; ranges: SeqRange[] };

const MAX = 0xffffffff;

function seqNumber(text: string, whole: string): SeqNumber {
  if (text === '*') return '*';
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new ParseError(`Invalid sequence set "${whole.slice(0, 40)}"`);
  const n = Number(text);
  if (n > MAX) throw new ParseError(`Sequence number out of range in "${whole.slice(0, 40)}"`);
  return n;
}

export function parseSequenceSet(text: string): SequenceSet {
  if (text === '$') return { saved: true };
  if (text.length === 0) throw new ParseError('Empty sequence set');
  const ranges: SeqRange[] = [];
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      const n = seqNumber(part, text);
      ranges.push({ start: n, end: n });
    } else {
      ranges.push({ start: seqNumber(part.slice(0, colon), text), end: seqNumber(part.slice(colon + 1), text) });
    }
  }
  return { saved: false, ranges };
}

/**
 * Resolves ranges to concrete inclusive [low, high] pairs given the largest number in use (`max`,
 * 0 for an empty mailbox): `*` becomes `max`, reversed ranges are turned round, and overlapping or
 * adjacent ranges are merged, sorted ascending. Numbers are not clamped to `max`: callers check
 * sequence numbers against EXISTS and intersect UIDs with those that exist.
 */
export function resolveRanges(ranges: SeqRange[], max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    let a = r.start === '*' ? max : r.start;
    let b = r.end === '*' ? max : r.end;
    if (a > b) [a, b] = [b, a];
    out.push([a, b]);
  }
  out.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Compact text form of a sorted list of numbers, e.g. [1,2,3,7] → "1:3,7". */
export function formatNumberSet(numbers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

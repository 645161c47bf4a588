/**
 * Header blocks (RFC 5322 §2.2): where a header ends, and its fields with their byte ranges, so
 * BODY[HEADER.FIELDS (...)] can return fields exactly as written.
 */
import { headerText, isBlankLine, lineEnd } from './bytes.js';

export interface RawField {
  /** Field name as written (without the colon and any obsolete whitespace before it). */
  name: string;
  /** Offset of the first byte of the field's first line. */
  start: number;
  /** Offset of the first byte after the colon. */
  valueStart: number;
  /** Offset just past the field's last line, line terminator included. */
  end: number;
}

const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/**
 * Offset of the body: just past the blank line that ends the header starting at `start`,
 * or `end` when there is no blank line (the whole range is header).
 */
export function findBodyStart(raw: Buffer, start: number, end: number): number {
  let pos = start;
  while (pos < end) {
    const next = lineEnd(raw, pos, end);
    if (isBlankLine(raw, pos, next)) return next;
    pos = next;
  }
  return end;
}

/** Field name of the line starting at `pos`, or null when the line is not a field's first line. */
function fieldName(raw: Buffer, pos: number, next: number): string | null {
  const colon = fieldColon(raw, pos, next);
  return colon < 0 ? null : raw.toString('latin1', pos, fieldNameEnd(raw, pos, colon));
}

/**
 * Offset of the colon when the line [pos, next) is a field's first line, else -1: printable
 * ASCII up to the colon, white space only just before it (obsolete syntax), and a name left.
 */
export function fieldColon(raw: Buffer, pos: number, next: number): number {
  const first = raw[pos];
  if (first === SP || first === HT) return -1;
  let colon = -1;
  for (let i = pos; i < next; i++) {
    const c = raw[i]!;
    if (c === COLON) {
      colon = i;
      break;
    }
    // RFC 5322 ftext is printable ASCII; obsolete syntax allows WSP before the colon only.
    if (c < 0x21 || c > 0x7e) {
      if (c !== SP && c !== HT) return -1;
    }
  }
  if (colon <= pos) return -1;
  const end = fieldNameEnd(raw, pos, colon);
  if (end === pos) return -1;
  for (let i = pos; i < end; i++) if (raw[i] === SP || raw[i] === HT) return -1;
  return colon;
}

/** End of the field name before `colon`: the white space just before the colon left out. */
export function fieldNameEnd(raw: Buffer, pos: number, colon: number): number {
  let end = colon;
  while (end > pos && (raw[end - 1] === SP || raw[end - 1] === HT)) end--;
  return end;
}

/**
 * Fields of the header in raw[start, end), stopping at the blank line. Lines that are neither a
 * field nor a continuation (malformed mail) are skipped, but a continuation after such a line is
 * not attached to the previous field.
 */
export function scanFields(raw: Buffer, start: number, end: number): RawField[] {
  const fields: RawField[] = [];
  let current: RawField | null = null;
  let pos = start;
  while (pos < end) {
    const next = lineEnd(raw, pos, end);
    if (isBlankLine(raw, pos, next)) break;
    const first = raw[pos];
    if (first === SP || first === HT) {
      if (current) current.end = next;
    } else {
      const name = fieldName(raw, pos, next);
      if (name !== null) {
        current = { name, start: pos, valueStart: raw.indexOf(COLON, pos) + 1, end: next };
        fields.push(current);
      } else {
        current = null;
      }
    }
    pos = next;
  }
  return fields;
}

/** The unfolded value of a field (RFC 5322 §2.2.3): line breaks before WSP removed, ends trimmed. */
export function fieldValue(raw: Buffer, field: RawField): string {
  return unfold(headerText(raw.subarray(field.valueStart, field.end)));
}

export function unfold(text: string): string {
  // One line (its line end, if any, last): nothing to unfold, and trim() takes the line end too —
  // the same result without the two regular expressions, for most fields of most messages.
  const lf = text.indexOf('\n');
  if (lf < 0 || lf === text.length - 1) return text.trim();
  return text.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '').trim();
}

/** Fields of raw[start, end) as name/value pairs: name as written, value unfolded but not decoded. */
export function headerFields(raw: Buffer, start: number, end: number): Array<{ name: string; value: string }> {
  return scanFields(raw, start, end).map((f) => ({ name: f.name, value: fieldValue(raw, f) }));
}

/** Lower-cased field name → first value, for the fields the structure parser looks at. */
export function firstValues(raw: Buffer, fields: RawField[], wanted: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) {
    const key = f.name.toLowerCase();
    if (wanted.has(key) && !out.has(key)) out.set(key, fieldValue(raw, f));
  }
  return out;
}

/**
 * editheader (RFC 5293): addheader and deleteheader change the header the rest of the script
 * sees and the message delivered. The header is rebuilt from the byte ranges of its fields, so
 * fields not touched stay exactly as received. "Received" and "Auto-Submitted" are protected, as
 * Pigeonhole does by default: they record the message's path and keep auto-responders from
 * looping, so a script may neither add nor delete them.
 */
import { lazyRequire } from '../util/lazy-require.js';
import { fieldValue, scanFields } from '../mime/header.js';
import { decodeHeaderText } from '../mime/index.js';

/** The encoding side of libmime, which src/mime's typings leave out (only this file uses it). */
interface LibmimeEncoding {
  encodeWords(value: string, mimeWordEncoding: 'Q' | 'B', maxLength: number, toCharset: string): string;
  foldLines(str: string, lineLength: number): string;
}
const encoder = lazyRequire<LibmimeEncoding>('libmime');

export const PROTECTED_FIELDS: ReadonlySet<string> = new Set(['received', 'auto-submitted']);

/** RFC 5322 §3.6.8 field-name: printable ASCII except ":". */
export function isFieldName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]+$/.test(name);
}

/** The field as written: encoded words for non-ASCII text (RFC 2047), folded, CRLF-terminated. */
function renderField(name: string, value: string): Buffer {
  const flat = value.replace(/\r?\n(?=[ \t])/g, '').replace(/[\r\n]+/g, ' ');
  const text = /[^\x00-\x7f]/.test(flat) ? encoder().encodeWords(flat, 'Q', 52, 'utf-8') : flat;
  return Buffer.from(`${encoder().foldLines(`${name}: ${text}`, 76).replace(/\r?\n/g, '\r\n')}\r\n`);
}

export function addHeader(header: Buffer, name: string, value: string, last: boolean): Buffer {
  const fields = scanFields(header, 0, header.length);
  const at = last ? (fields.length > 0 ? fields[fields.length - 1]!.end : 0) : (fields[0]?.start ?? 0);
  return Buffer.concat([header.subarray(0, at), renderField(name, value), header.subarray(at)]);
}

/**
 * Removes the fields called `name` that `select` picks; `select` gets the field's value as the
 * header test sees it (unfolded, decoded, trimmed), its 1-based position among the fields of that
 * name, and their count.
 */
export function deleteHeader(header: Buffer, name: string, select: (value: string, index: number, count: number) => boolean): Buffer {
  const wanted = name.toLowerCase();
  const fields = scanFields(header, 0, header.length).filter((f) => f.name.toLowerCase() === wanted);
  const parts: Buffer[] = [];
  let pos = 0;
  fields.forEach((f, i) => {
    if (!select(decodeHeaderText(fieldValue(header, f)).trim(), i + 1, fields.length)) return;
    parts.push(header.subarray(pos, f.start));
    pos = f.end;
  });
  if (pos === 0 && parts.length === 0) return header;
  parts.push(header.subarray(pos));
  return Buffer.concat(parts);
}

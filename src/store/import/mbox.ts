/**
 * Reads an mbox file as a stream of messages (RFC 4155). A message starts at a "From " line at the
 * start of the file or after an empty line; the empty line before it belongs to the separator.
 * Quoted lines are unescaped the mboxrd way (">From " → "From ", ">>From " → ">From "), which is
 * also right for mboxo files except for lines mboxo could never represent. Flags come from the
 * Status / X-Status / X-Keywords headers that mutt, Thunderbird and Dovecot write; the internal
 * date from the "From " line.
 */
import { createReadStream } from 'node:fs';
import type { Flag } from '../types.js';
import type { SourceMessage } from './source.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** asctime() date of a "From sender Wed Jun 30 21:49:08 1993" line, taken as UTC. */
export function fromLineDate(line: string): Date | null {
  const m = /([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:[A-Z]{2,5}\s+|[+-]\d{4}\s+)?(\d{4})/.exec(line);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  if (month < 0) return null;
  const date = new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0)));
  return Number.isNaN(date.getTime()) ? null : date;
}

function headerOf(raw: Buffer): string {
  let end = raw.indexOf('\n\n');
  const crlf = raw.indexOf('\r\n\r\n');
  if (crlf >= 0 && (end < 0 || crlf < end)) end = crlf;
  return raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
}

export function flagsFromHeaders(raw: Buffer): Flag[] {
  const header = headerOf(raw);
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'im').exec(header);
    return m ? m[1]!.trim() : null;
  };
  const flags: Flag[] = [];
  const status = field('Status') ?? '';
  const xstatus = field('X-Status') ?? '';
  if (status.includes('R')) flags.push('\\Seen');
  if (xstatus.includes('A')) flags.push('\\Answered');
  if (xstatus.includes('F')) flags.push('\\Flagged');
  if (xstatus.includes('T')) flags.push('\\Draft');
  if (xstatus.includes('D')) flags.push('\\Deleted');
  for (const kw of (field('X-Keywords') ?? '').split(/[\s,]+/)) if (kw !== '' && !flags.includes(kw)) flags.push(kw);
  return flags;
}

function isFromLine(line: Buffer): boolean {
  return line.length >= 5 && line[0] === 0x46 && line.toString('latin1', 0, 5) === 'From ';
}

/** ">From " with one or more ">": the mboxrd escape of a body line starting "From ". */
function isQuotedFrom(line: Buffer): boolean {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  return i > 0 && line.length >= i + 5 && line.toString('latin1', i, i + 5) === 'From ';
}

function isEmptyLine(line: Buffer): boolean {
  return line.length === 1 || (line.length === 2 && line[0] === 0x0d);
}

/**
 * Yields messages with `mailbox` as their target. `onBytes` reports how far into the file the
 * reader is, for a progress bar.
 */
export async function* readMbox(path: string, mailbox: string, onBytes?: (offset: number) => void): AsyncIterable<SourceMessage> {
  let lines: Buffer[] = [];
  let fromLine: string | null = null;
  let start = 0;
  let offset = 0;
  let previousEmpty = true;
  let carry: Buffer | null = null;

  const finish = (): SourceMessage | null => {
    if (fromLine === null) return null;
    // The empty line before the next "From " is the separator, not message content.
    if (lines.length > 0 && isEmptyLine(lines[lines.length - 1]!)) lines.pop();
    const raw = Buffer.concat(lines);
    lines = [];
    return {
      mailbox,
      raw,
      flags: flagsFromHeaders(raw),
      internalDate: fromLineDate(fromLine) ?? new Date(0),
      origin: `${path}@${start}`,
    };
  };

  const take = (line: Buffer, lineStart: number): SourceMessage | null => {
    let done: SourceMessage | null = null;
    if (previousEmpty && isFromLine(line)) {
      done = finish();
      fromLine = line.toString('latin1');
      start = lineStart;
    } else if (fromLine !== null) {
      lines.push(isQuotedFrom(line) ? line.subarray(1) : line);
    }
    previousEmpty = isEmptyLine(line);
    return done;
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const dataStart = offset - (carry?.length ?? 0);
    carry = null;
    let pos = 0;
    for (let nl = data.indexOf(0x0a, pos); nl >= 0; nl = data.indexOf(0x0a, pos)) {
      // Copy: a line must not pin the whole 1 MiB read buffer in memory.
      const message = take(Buffer.from(data.subarray(pos, nl + 1)), dataStart + pos);
      pos = nl + 1;
      if (message) yield message;
    }
    if (pos < data.length) carry = Buffer.from(data.subarray(pos));
    offset += chunk.length;
    data = Buffer.alloc(0);
    onBytes?.(offset);
  }
  if (carry) {
    const message = take(carry, offset - carry.length);
    if (message) yield message;
  }
  const last = finish();
  if (last) yield last;
}

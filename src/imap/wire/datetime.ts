/**
 * IMAP dates (RFC 3501 §9): date-time for INTERNALDATE and APPEND, date for SEARCH.
 */
import { ParseError } from './args.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 3501 date-time in UTC; the day as date-day-fixed = (SP DIGIT) / 2DIGIT. */
export function formatInternalDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid date');
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return (
    `${day}-${MONTHS[d.getUTCMonth()]}-${String(d.getUTCFullYear()).padStart(4, '0')} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`
  );
}

function monthIndex(name: string): number {
  const i = MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());
  if (i < 0) throw new ParseError(`Invalid month "${name}"`);
  return i;
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 1 ? (leap ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month]!;
}

function checkDay(day: number, month: number, year: number, text: string): void {
  if (day < 1 || day > daysInMonth(year, month)) throw new ParseError(`Invalid date "${text}"`);
}

/** APPEND's date-time: "dd-Mon-yyyy hh:mm:ss +zzzz"; the day may be 1 or 2 digits or space-padded. */
export function parseDateTime(s: string): Date {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) throw new ParseError(`Invalid date-time "${s.slice(0, 40)}"`);
  const [, dd, mon, yyyy, hh, mi, ss, sign, zh, zm] = m as unknown as string[];
  const day = Number(dd);
  const month = monthIndex(mon!);
  const year = Number(yyyy);
  checkDay(day, month, year, s);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  // A leap second (60) is allowed by the grammar's spirit; JS dates roll it into the next minute.
  if (hour > 23 || minute > 59 || second > 60 || Number(zm) > 59) throw new ParseError(`Invalid date-time "${s}"`);
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  // setUTCFullYear, not Date.UTC, which would read years 0..99 as 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(year, month, day);
  local.setUTCHours(hour, minute, second, 0);
  return new Date(local.getTime() - offsetMinutes * 60_000);
}

/** SEARCH's date ("1-Feb-1994", optionally quoted) → "1994-02-01". */
export function parseSearchDate(s: string): string {
  const m = /^"?(\d{1,2})-([A-Za-z]{3})-(\d{4})"?$/.exec(s);
  if (!m || (s.startsWith('"') !== s.endsWith('"'))) throw new ParseError(`Invalid date "${s.slice(0, 40)}"`);
  const day = Number(m[1]);
  const month = monthIndex(m[2]!);
  const year = Number(m[3]);
  checkDay(day, month, year, s);
  return `${m[3]}-${pad2(month + 1)}-${pad2(day)}`;
}

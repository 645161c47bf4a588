/**
 * The "sent date" of RFC 5256 §2.2: the Date: header's date and time, normalised to UTC, for SORT
 * (DATE) and the ordering of threads. RFC 5322 §3.3 syntax with the obsolete forms of §4.3
 * (two- and three-digit years, alphabetic zones, comments such as "(PDT)"), read leniently:
 *   - an invalid or unknown time zone is taken as UTC;
 *   - an invalid or missing time is taken as 00:00:00;
 *   - without a valid date there is no sent date (null), and SORT uses the INTERNALDATE instead.
 */
import { withoutComments } from './address-text.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 5322 §4.3 obs-zone; military single letters carry no reliable offset and count as UTC. */
const ZONES: Record<string, number> = {
  UT: 0,
  UTC: 0,
  GMT: 0,
  Z: 0,
  EST: -5 * 60,
  EDT: -4 * 60,
  CST: -6 * 60,
  CDT: -5 * 60,
  MST: -7 * 60,
  MDT: -6 * 60,
  PST: -8 * 60,
  PDT: -7 * 60,
};

const DATE = /(\d{1,2})\s*[-\s]\s*([a-z]{3})[a-z]*\.?\s*[-\s]\s*(\d{2,4})(?!\d)/i;
const TIME = /^\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?\s*(.*)$/;
const ISO = /\b(\d{4})-(\d{2})-(\d{2})(?:[T\s]+(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?/i;

/** RFC 5322 §4.3: 00–49 are 20xx, 50–99 19xx; three digits add 1900. */
function fullYear(text: string): number {
  const y = Number(text);
  if (text.length === 2) return y < 50 ? 2000 + y : 1900 + y;
  if (text.length === 3) return 1900 + y;
  return y;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** Offset east of UTC in minutes, or 0 when the zone is missing or not understood. */
function zoneOffset(text: string): number {
  const t = text.trim();
  const numeric = /^([+-])(\d{2}):?(\d{2})\b/.exec(t);
  if (numeric) {
    const minutes = Number(numeric[2]) * 60 + Number(numeric[3]);
    if (Number(numeric[3]) > 59 || minutes > 99 * 60) return 0;
    return numeric[1] === '-' ? -minutes : minutes;
  }
  const name = /^[a-z]+/i.exec(t)?.[0].toUpperCase();
  return name !== undefined ? (ZONES[name] ?? 0) : 0;
}

function build(year: number, month: number, day: number, h: number, m: number, s: number, offset: number): number | null {
  if (month < 0 || month > 11 || day < 1 || day > daysIn(year, month) || year < 1 || year > 9999) return null;
  // An impossible time counts as midnight (RFC 5256 §2.2); a leap second as :59.
  if (h > 23 || m > 59 || s > 60) [h, m, s] = [0, 0, 0];
  const utc = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  // Date.UTC treats years 0–99 as 19xx; the year was made full above, so set it exactly.
  const d = new Date(utc);
  d.setUTCFullYear(year, month, day);
  return d.getTime() - offset * 60_000;
}

/** The sent date of a Date: header value as milliseconds since the epoch (UTC), or null. */
export function parseSentDate(value: string | null | undefined): number | null {
  if (!value) return null;
  const text = withoutComments(value);
  const date = DATE.exec(text);
  if (date) {
    const month = MONTHS.indexOf(date[2]!.toLowerCase());
    if (month >= 0) {
      const rest = text.slice(date.index + date[0].length);
      const time = TIME.exec(rest);
      if (!time) return build(fullYear(date[3]!), month, Number(date[1]), 0, 0, 0, 0);
      return build(fullYear(date[3]!), month, Number(date[1]), Number(time[1]), Number(time[2]), Number(time[3] ?? 0), zoneOffset(time[4]!));
    }
  }
  // Not RFC 5322, but seen in the wild from broken software.
  const iso = ISO.exec(text);
  if (iso) {
    return build(
      Number(iso[1]),
      Number(iso[2]) - 1,
      Number(iso[3]),
      Number(iso[4] ?? 0),
      Number(iso[5] ?? 0),
      Number(iso[6] ?? 0),
      iso[7] ? zoneOffset(iso[7].toUpperCase() === 'Z' ? 'UT' : iso[7]) : 0,
    );
  }
  return null;
}

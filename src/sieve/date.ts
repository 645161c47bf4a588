/**
 * date and currentdate (RFC 5260): a Date-like header value read with its own zone, and the date
 * parts of §4.2 in a chosen zone. Header dates are RFC 5322 §3.3 (obsolete zone names too); for
 * "Received" the date after the last ";" is used (§5).
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ZONES: Record<string, number> = { UT: 0, UTC: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };
const DATE = /^\s*(?:[a-z]{3},?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?/i;

export interface ZonedTime {
  /** Milliseconds since the epoch. */
  utc: number;
  /** Offset east of UTC in minutes. */
  offset: number;
}

export function parseHeaderDate(value: string, field: string): ZonedTime | null {
  let text = value;
  if (field.toLowerCase() === 'received') text = value.slice(value.lastIndexOf(';') + 1);
  const m = DATE.exec(text.replace(/\([^)]*\)/g, ' '));
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const [day, h, min, s] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return null;
  const zone = m[7] ?? '+0000';
  let offset = 0;
  if (/^[+-]\d{4}$/.test(zone)) offset = zoneMinutes(zone);
  else offset = ZONES[zone.toUpperCase()] ?? 0;
  const utc = Date.UTC(year, month, day, h, min, Math.min(s, 59)) - offset * 60_000;
  return Number.isFinite(utc) ? { utc, offset } : null;
}

/** "+hhmm" / "-hhmm" → minutes east of UTC. */
export function zoneMinutes(zone: string): number {
  const sign = zone.startsWith('-') ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function zoneText(offset: number): string {
  const a = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** The value of one date part (RFC 5260 §4.2) of `t` seen in the zone `offset`. */
export function datePart(t: ZonedTime, part: string): string | null {
  const d = new Date(t.utc + t.offset * 60_000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const zone = zoneText(t.offset);
  switch (part.toLowerCase()) {
    case 'year':
      return pad(d.getUTCFullYear(), 4);
    case 'month':
      return pad(d.getUTCMonth() + 1);
    case 'day':
      return pad(d.getUTCDate());
    case 'date':
      return date;
    case 'julian':
      // Modified Julian Day: days since 1858-11-17 (RFC 5260 §4.2).
      return String(Math.floor((t.utc + t.offset * 60_000) / 86_400_000) + 40587);
    case 'hour':
      return pad(d.getUTCHours());
    case 'minute':
      return pad(d.getUTCMinutes());
    case 'second':
      return pad(d.getUTCSeconds());
    case 'time':
      return time;
    case 'iso8601':
      return `${date}T${time}${zone.slice(0, 3)}:${zone.slice(3)}`;
    case 'std11':
      return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]!.replace(/^./, (c) => c.toUpperCase())} ${pad(d.getUTCFullYear(), 4)} ${time} ${zone}`;
    case 'zone':
      return zone;
    case 'weekday':
      return String(d.getUTCDay());
    default:
      return null;
  }
}

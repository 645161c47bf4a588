/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself ("&" as
 * "&-"), everything else is UTF-16 in base64 with "," for "/", no padding, between "&" and "-".
 * The decoder accepts only the one canonical spelling of each name, so two wire names can never
 * mean the same mailbox.
 */
import { ParseError } from './args.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Map([...ALPHABET].map((ch, i) => [ch.charCodeAt(0), i]));

const isPrintable = (c: number): boolean => c >= 0x20 && c <= 0x7e;

function encodeRun(units: number[]): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (const u of units) {
    for (const byte of [u >> 8, u & 0xff]) {
      bits = (bits << 8) | byte;
      nbits += 8;
      while (nbits >= 6) {
        nbits -= 6;
        out += ALPHABET[(bits >> nbits) & 0x3f];
      }
      bits &= (1 << nbits) - 1;
    }
  }
  if (nbits > 0) out += ALPHABET[(bits << (6 - nbits)) & 0x3f];
  return `&${out}-`;
}

export function encodeMailboxName(name: string): string {
  let out = '';
  let run: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isPrintable(c)) {
      if (run.length > 0) {
        out += encodeRun(run);
        run = [];
      }
      out += c === 0x26 ? '&-' : name[i];
    } else {
      run.push(c);
    }
  }
  if (run.length > 0) out += encodeRun(run);
  return out;
}

function decodeRun(b64: string, wire: string): string {
  const units: number[] = [];
  let bits = 0;
  let nbits = 0;
  let pendingByte = -1;
  for (const ch of b64) {
    const v = VALUE.get(ch.charCodeAt(0));
    if (v === undefined) throw new ParseError(`Invalid modified UTF-7 in mailbox name "${wire}"`);
    bits = (bits << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      const byte = (bits >> nbits) & 0xff;
      bits &= (1 << nbits) - 1;
      if (pendingByte < 0) pendingByte = byte;
      else {
        units.push((pendingByte << 8) | byte);
        pendingByte = -1;
      }
    }
  }
  // Only the zero padding of the last base64 char may be left over (RFC 2152 via RFC 3501 §5.1.3).
  if (pendingByte >= 0 || nbits >= 6 || bits !== 0 || units.length === 0) {
    throw new ParseError(`Invalid modified UTF-7 in mailbox name "${wire}"`);
  }
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    if (isPrintable(u)) throw new ParseError(`Mailbox name "${wire}" encodes printable US-ASCII`);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = units[i + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) throw new ParseError(`Ill-formed UTF-16 in mailbox name "${wire}"`);
      i++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw new ParseError(`Ill-formed UTF-16 in mailbox name "${wire}"`);
    }
  }
  return String.fromCharCode(...units);
}

export function decodeMailboxName(wire: string): string {
  let out = '';
  let i = 0;
  let lastRunEnd = -1;
  while (i < wire.length) {
    const c = wire.charCodeAt(i);
    if (!isPrintable(c)) throw new ParseError(`Mailbox name must be modified UTF-7 (8-bit or control character found)`);
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const close = wire.indexOf('-', i + 1);
    if (close < 0) throw new ParseError(`Unterminated "&" in mailbox name "${wire}"`);
    if (close === i + 1) {
      out += '&';
    } else {
      // Two runs side by side should have been written as one.
      if (lastRunEnd === i) throw new ParseError(`Mailbox name "${wire}" is not in canonical modified UTF-7`);
      out += decodeRun(wire.slice(i + 1, close), wire);
      lastRunEnd = close + 1;
    }
    i = close + 1;
  }
  return out;
}

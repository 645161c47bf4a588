/**
 * Structured MIME header values: Content-Type and Content-Disposition with their parameters
 * (RFC 2045 §5.1, RFC 2183), including RFC 2231 continuations and charset/language-tagged values.
 */
import { decodeCharset } from './charset.js';

export interface ParsedValue {
  /** The value before the first ";" (e.g. "text/plain" or "attachment"), comments removed, trimmed. */
  value: string;
  params: Array<[string, string]>;
}

/** Removes RFC 5322 comments (nested, with quoted-pairs) outside quoted strings. */
export function stripComments(text: string): string {
  if (!text.includes('(')) return text;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === '(' && !quoted) {
      depth = 1;
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

/** Splits on `sep` outside quoted strings. */
function splitUnquoted(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

/** A parameter value: a quoted string (unescaped) or a token; junk after a closing quote is dropped. */
function paramValue(text: string): string {
  const t = text.trim();
  if (!t.startsWith('"')) return t;
  let out = '';
  for (let i = 1; i < t.length; i++) {
    const c = t[i]!;
    if (c === '\\' && i + 1 < t.length) out += t[++i];
    else if (c === '"') return out;
    else out += c;
  }
  return out; // unterminated quote: take what there is
}

interface Segment {
  index: number;
  extended: boolean;
  value: string;
}

interface Pending {
  name: string;
  plain?: string;
  segments: Segment[];
}

/** RFC 2231 §4: %XX escapes to bytes; anything else is taken as it is. */
function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

const MAX_SEGMENTS = 1000;

/**
 * Joins RFC 2231 §3 continuations (name*0, name*1, ...) in index order, stopping at the first gap,
 * and decodes extended segments (name*=charset'lang'%XX) from their charset.
 */
function joinSegments(segments: Segment[]): string | null {
  const sorted = [...segments].sort((a, b) => a.index - b.index);
  let charset: string | undefined;
  const chunks: Buffer[] = [];
  let expect = sorted[0]?.index === -1 ? -1 : 0;
  for (const seg of sorted) {
    if (seg.index !== expect) break;
    expect = seg.index === -1 ? Infinity : seg.index + 1;
    let value = seg.value;
    if (seg.extended && chunks.length === 0) {
      // RFC 2231 §4: only the first segment carries charset'language'.
      const m = /^([^']*)'[^']*'/.exec(value);
      if (m) {
        charset = m[1] || undefined;
        value = value.slice(m[0].length);
      }
    }
    chunks.push(seg.extended ? percentDecode(value) : Buffer.from(value, 'utf8'));
  }
  if (chunks.length === 0) return null;
  const bytes = Buffer.concat(chunks);
  return charset ? decodeCharset(bytes, charset) : bytes.toString('utf8');
}

/** Parses `value *(";" attribute "=" value)`, parameter names lower-cased, in order of appearance. */
export function parseStructured(text: string): ParsedValue {
  const pieces = splitUnquoted(stripComments(text), ';');
  const value = (pieces[0] ?? '').trim();
  const pending: Pending[] = [];
  const byName = new Map<string, Pending>();
  for (const piece of pieces.slice(1)) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    const rawName = piece.slice(0, eq).trim().toLowerCase();
    if (rawName === '') continue;
    const m = /^(.+?)\*(?:(\d{1,4})(\*)?)?$/.exec(rawName);
    const name = m ? m[1]! : rawName;
    let p = byName.get(name);
    if (!p) {
      p = { name, segments: [] };
      byName.set(name, p);
      pending.push(p);
    }
    const v = paramValue(piece.slice(eq + 1));
    if (!m) {
      if (p.plain === undefined) p.plain = v;
    } else if (p.segments.length < MAX_SEGMENTS) {
      // "name*" alone is an extended, unsplit value: index -1 sorts first and stands alone.
      const index = m[2] === undefined ? -1 : Number(m[2]);
      const extended = m[2] === undefined || m[3] === '*';
      p.segments.push({ index, extended, value: v });
    }
  }
  const params: Array<[string, string]> = [];
  for (const p of pending) {
    // RFC 2231 values win over a plain fallback given for older readers.
    const joined = p.segments.length > 0 ? joinSegments(p.segments) : null;
    if (joined !== null) params.push([p.name, joined]);
    else if (p.plain !== undefined) params.push([p.name, p.plain]);
  }
  return { value, params };
}

/**
 * parseMessage: one pass over the raw bytes producing the MIME tree with byte offsets
 * (see types.ts). Never throws; malformed mail yields a best-effort tree whose offsets still nest.
 */
import { countLines } from './bytes.js';
import { findBodyStart, firstValues, scanFields, type RawField } from './header.js';
import { parseStructured, stripComments } from './params.js';
import { splitMultipart } from './multipart.js';
import { buildEnvelope, EMPTY_ENVELOPE } from './envelope.js';
import type { ContentType, Disposition, MessageStructure, MimePart } from './types.js';

const PART_FIELDS: ReadonlySet<string> = new Set([
  'content-type',
  'content-transfer-encoding',
  'content-id',
  'content-description',
  'content-md5',
  'content-disposition',
  'content-language',
  'content-location',
]);

/** Deeper nesting than this (multiparts and enclosed messages together) is treated as opaque. */
const MAX_DEPTH = 40;

const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;

function defaultContentType(inDigest: boolean): ContentType {
  // RFC 2046 §5.1.5: in a multipart/digest the default is message/rfc822.
  if (inDigest) return { type: 'message', subtype: 'rfc822', params: [] };
  // RFC 2045 §5.2: absent or syntactically invalid → text/plain; charset=us-ascii.
  return { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] };
}

function contentType(value: string | undefined, inDigest: boolean): ContentType {
  if (value === undefined) return defaultContentType(inDigest);
  const { value: media, params } = parseStructured(value);
  const slash = media.indexOf('/');
  const type = media.slice(0, slash).trim();
  const subtype = media.slice(slash + 1).trim();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return defaultContentType(false);
  return { type, subtype, params };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function encoding(value: string | undefined): string {
  const token = stripComments(value ?? '').trim().split(/[\s;]/)[0] ?? '';
  return token === '' ? '7BIT' : token;
}

function disposition(value: string | undefined): Disposition | null {
  if (value === undefined) return null;
  const parsed = parseStructured(value);
  return parsed.value === '' ? null : { value: parsed.value, params: parsed.params };
}

function language(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const tags = stripComments(value)
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return tags.length === 0 ? null : tags;
}

function header(raw: Buffer, start: number, end: number): { bodyStart: number; fields: RawField[] } {
  const bodyStart = findBodyStart(raw, start, end);
  return { bodyStart, fields: scanFields(raw, start, bodyStart) };
}

/** A zero-length text/plain part at `at`: what stands in for a part that could not be read. */
export function emptyPart(at: number): MimePart {
  return {
    headerStart: at,
    bodyStart: at,
    bodyEnd: at,
    bodyLines: 0,
    contentType: defaultContentType(false),
    encoding: '7BIT',
    id: null,
    description: null,
    md5: null,
    disposition: null,
    language: null,
    location: null,
  };
}

function parsePart(raw: Buffer, start: number, end: number, inDigest: boolean, depth: number, fields?: RawField[], bodyStart?: number): MimePart {
  if (fields === undefined || bodyStart === undefined) ({ bodyStart, fields } = header(raw, start, end));
  const v = firstValues(raw, fields, PART_FIELDS);
  const part: MimePart = {
    headerStart: start,
    bodyStart,
    bodyEnd: end,
    bodyLines: countLines(raw, bodyStart, end),
    contentType: contentType(v.get('content-type'), inDigest),
    encoding: encoding(v.get('content-transfer-encoding')),
    id: nonEmpty(v.get('content-id')),
    description: nonEmpty(v.get('content-description')),
    md5: nonEmpty(v.get('content-md5')),
    disposition: disposition(v.get('content-disposition')),
    language: language(v.get('content-language')),
    location: nonEmpty(v.get('content-location')),
  };
  const type = part.contentType.type.toLowerCase();
  const subtype = part.contentType.subtype.toLowerCase();
  if (type === 'multipart') {
    const boundary = part.contentType.params.find(([k]) => k === 'boundary')?.[1];
    const ranges = boundary && depth < MAX_DEPTH ? splitMultipart(raw, bodyStart, end, boundary) : [];
    const digest = subtype === 'digest';
    // body-type-mpart needs at least one part (RFC 3501 §9), so a multipart with none gets an empty one.
    part.parts = ranges.length === 0 ? [emptyPart(end)] : ranges.map(([s, e]) => parsePart(raw, s, e, digest, depth + 1));
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && depth < MAX_DEPTH) {
    // An encoded message/rfc822 (forbidden by RFC 2046 §5.2.1, seen anyway) cannot be looked into.
    if (/^(7bit|8bit|binary)$/i.test(part.encoding)) {
      const inner = header(raw, bodyStart, end);
      part.message = {
        envelope: buildEnvelope(raw, inner.fields),
        root: parsePart(raw, bodyStart, end, false, depth + 1, inner.fields, inner.bodyStart),
      };
    }
  }
  return part;
}

export function parseMessage(raw: Buffer): MessageStructure {
  try {
    const { bodyStart, fields } = header(raw, 0, raw.length);
    return {
      size: raw.length,
      envelope: buildEnvelope(raw, fields),
      root: parsePart(raw, 0, raw.length, false, 0, fields, bodyStart),
    };
  } catch {
    // Defensive only: a bug in the parser must not make a message unstorable.
    const root = emptyPart(0);
    root.bodyEnd = raw.length;
    return { size: raw.length, envelope: { ...EMPTY_ENVELOPE }, root };
  }
}

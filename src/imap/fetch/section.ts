/**
 * BODY[section]<partial> (RFC 3501 §6.4.5): parsing the section spec from the tokenizer's section
 * tokens, naming it in the response, and finding its bytes in a message via the stored structure.
 */
import type { MessageStructure, MimePart } from '../../mime/types.js';
import type { ByteRange } from '../../store/types.js';
import { scanFields } from '../../mime/header.js';
import { ParseError } from '../wire/args.js';
import type { Token } from '../wire/types.js';

export type SectionText = 'all' | 'header' | 'headerFields' | 'headerFieldsNot' | 'text' | 'mime';

export interface FetchSection {
  /** Part numbers ("1.2" → [1, 2]); empty for the message as a whole. */
  path: number[];
  text: SectionText;
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT, as the client wrote them. */
  fields?: string[];
}

export interface Partial {
  offset: number;
  length?: number;
}

const TEXTS: Record<string, SectionText> = {
  HEADER: 'header',
  'HEADER.FIELDS': 'headerFields',
  'HEADER.FIELDS.NOT': 'headerFieldsNot',
  TEXT: 'text',
  MIME: 'mime',
};

const SPEC_NAMES: Record<SectionText, string> = {
  all: '',
  header: 'HEADER',
  headerFields: 'HEADER.FIELDS',
  headerFieldsNot: 'HEADER.FIELDS.NOT',
  text: 'TEXT',
  mime: 'MIME',
};

function fieldNames(token: Token | undefined): string[] {
  if (!token || token.type !== 'list' || token.items.length === 0) {
    throw new ParseError('HEADER.FIELDS needs a parenthesised list of field names');
  }
  return token.items.map((t) => {
    const name = t.type === 'atom' && !t.section && !t.partial ? t.value : t.type === 'string' ? t.value.toString('utf8') : '';
    // RFC 5322 field names are printable ASCII without ":"; anything else can match nothing.
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new ParseError('Invalid header field name');
    return name;
  });
}

/** Parses the tokens between "[" and "]" (RFC 3501 §9 section-spec). */
export function parseSection(tokens: Token[]): FetchSection {
  if (tokens.length === 0) return { path: [], text: 'all' };
  const first = tokens[0]!;
  if (first.type !== 'atom' || first.section || first.partial) throw new ParseError('Invalid section');
  const segments = first.value.split('.');
  const path: number[] = [];
  while (segments.length > 0 && /^\d+$/.test(segments[0]!)) {
    const digits = segments.shift()!;
    const n = Number(digits);
    if (!/^[1-9]\d{0,9}$/.test(digits) || n > 0xffffffff) throw new ParseError('Invalid section part number');
    path.push(n);
  }
  const name = segments.join('.').toUpperCase();
  let text: SectionText;
  if (name === '') {
    if (first.value.endsWith('.')) throw new ParseError('Invalid section');
    text = 'all';
  } else {
    const t = TEXTS[name];
    if (!t) throw new ParseError(`Unknown section ${first.value.slice(0, 40)}`);
    // RFC 3501 §6.4.5: MIME only follows a part number.
    if (t === 'mime' && path.length === 0) throw new ParseError('MIME needs a part number');
    text = t;
  }
  if (text === 'headerFields' || text === 'headerFieldsNot') {
    const fields = fieldNames(tokens[1]);
    if (tokens.length > 2) throw new ParseError('Invalid section');
    return { path, text, fields };
  }
  if (tokens.length > 1) throw new ParseError('Invalid section');
  return { path, text };
}

function fieldName(name: string): string {
  return /^[A-Za-z0-9!#$&'*+\-.^_`|~]+$/.test(name) ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

/** The section spec as it appears in the response: "1.2.HEADER.FIELDS (From To)". */
export function formatSection(s: FetchSection): string {
  const parts = s.path.map(String);
  if (s.text !== 'all') parts.push(SPEC_NAMES[s.text]);
  const spec = parts.join('.');
  return s.fields ? `${spec} (${s.fields.map(fieldName).join(' ')})` : spec;
}

/**
 * What a section refers to: a byte range of the message, or (HEADER.FIELDS[.NOT]) a header whose
 * fields must be filtered. null when the part does not exist — the answer is then empty.
 */
export type SectionTarget =
  | { kind: 'range'; range: ByteRange }
  | { kind: 'fields'; header: ByteRange; names: string[]; not: boolean };

/**
 * Follows a part path (RFC 3501 §6.4.5): numbers index the parts of a multipart; inside a
 * message/rfc822 part they index the parts of the enclosed message; a message (or enclosed message)
 * that is not multipart has just part 1, its body.
 */
export function findPart(structure: MessageStructure, path: number[]): MimePart | null {
  let cur = structure.root;
  let atMessageRoot = true;
  for (const n of path) {
    const enclosed = !atMessageRoot && cur.message ? cur.message.root : null;
    const container = enclosed ?? cur;
    if (container.parts) {
      const next = container.parts[n - 1];
      if (!next) return null;
      cur = next;
    } else if (n === 1 && (atMessageRoot || enclosed)) {
      cur = container;
    } else {
      return null;
    }
    atMessageRoot = false;
  }
  return cur;
}

export function sectionTarget(structure: MessageStructure, section: FetchSection): SectionTarget | null {
  const part = findPart(structure, section.path);
  if (!part) return null;
  if (section.path.length === 0 && section.text === 'all') return { kind: 'range', range: { start: 0, end: structure.size } };
  if (section.text === 'all') return { kind: 'range', range: { start: part.bodyStart, end: part.bodyEnd } };
  if (section.text === 'mime') return { kind: 'range', range: { start: part.headerStart, end: part.bodyStart } };
  // HEADER, HEADER.FIELDS and TEXT after a part number refer to the message enclosed in that part.
  const message = section.path.length === 0 ? structure.root : (part.message?.root ?? null);
  if (!message) return null;
  if (section.text === 'text') return { kind: 'range', range: { start: message.bodyStart, end: message.bodyEnd } };
  const header = { start: message.headerStart, end: message.bodyStart };
  if (section.text === 'header') return { kind: 'range', range: header };
  return { kind: 'fields', header, names: section.fields ?? [], not: section.text === 'headerFieldsNot' };
}

/** A header's fields as filterHeaderFields() reads them: lower-cased name, and where the field lies. */
interface ScannedField {
  name: string;
  start: number;
  end: number;
}

/**
 * Scanned fields by header block, by identity: a store's header cache (UserMailbox.messageHeads)
 * hands out the same Buffer for a message again and again, and a client listing a folder asks
 * HEADER.FIELDS of it each time — the scan is then done once. An entry goes with its Buffer.
 */
const scannedHeaders = new WeakMap<Buffer, ScannedField[]>();

function scannedFields(header: Buffer): ScannedField[] {
  let fields = scannedHeaders.get(header);
  if (!fields) {
    fields = scanFields(header, 0, header.length).map((f) => ({ name: f.name.toLowerCase(), start: f.start, end: f.end }));
    scannedHeaders.set(header, fields);
  }
  return fields;
}

/** The lower-cased names of a FETCH item's field list, made once per list (one per item, not per message). */
const wantedSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function wantedNames(names: readonly string[]): ReadonlySet<string> {
  let wanted = wantedSets.get(names);
  if (!wanted) {
    wanted = new Set(names.map((n) => n.toLowerCase()));
    wantedSets.set(names, wanted);
  }
  return wanted;
}

/**
 * The fields of a header block (the bytes of just that header) whose names are (or with `not`,
 * are not) in `names`, exactly as written, followed by the blank line (RFC 3501 §6.4.5).
 */
export function filterHeaderFields(header: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = wantedNames(names);
  const fields = scannedFields(header);
  // Measured first, then copied into one Buffer: no view and no list of pieces per field (a page
  // of 100 messages' HEADER.FIELDS made several hundred of each).
  const unterminated = (f: ScannedField): boolean => f.end === f.start || header[f.end - 1] !== 0x0a;
  let size = 2;
  for (const f of fields) if (wanted.has(f.name) !== not) size += f.end - f.start + (unterminated(f) ? 2 : 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const f of fields) {
    if (wanted.has(f.name) === not) continue;
    at += header.copy(out, at, f.start, f.end);
    if (unterminated(f)) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    }
  }
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return out;
}

/** Applies <offset.length> (RFC 3501 §6.4.5): past the end is empty, the length is clamped. */
export function applyPartial(range: ByteRange, partial: Partial | undefined): ByteRange {
  if (!partial) return range;
  const start = Math.min(range.end, range.start + partial.offset);
  const end = partial.length === undefined ? range.end : Math.min(range.end, start + partial.length);
  return { start, end };
}

export function slicePartial(bytes: Buffer, partial: Partial | undefined): Buffer {
  const r = applyPartial({ start: 0, end: bytes.length }, partial);
  return bytes.subarray(r.start, r.end);
}

/** The bytes of a section of the message `raw` (empty when the part does not exist). */
export function sectionBytes(raw: Buffer, structure: MessageStructure, section: FetchSection, partial?: Partial): Buffer {
  const target = sectionTarget(structure, section);
  if (!target) return Buffer.alloc(0);
  const clamp = (r: ByteRange): ByteRange => ({ start: Math.min(r.start, raw.length), end: Math.min(Math.max(r.start, r.end), raw.length) });
  if (target.kind === 'range') {
    const r = applyPartial(clamp(target.range), partial);
    return raw.subarray(r.start, r.end);
  }
  const h = clamp(target.header);
  return slicePartial(filterHeaderFields(raw.subarray(h.start, h.end), target.names, target.not), partial);
}

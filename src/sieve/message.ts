/**
 * The message as the tests see it: header fields by name (unfolded; RFC 2047-decoded for `header`,
 * RFC 5228 §2.7.2), the addresses of address fields (src/mime's RFC 5322 parser), and envelope
 * addresses split into local part and domain. The header is scanned once per run; a field's
 * value is read, decoded or parsed the first time a test asks for it, and kept for the next.
 */
import { decodeHeaderText } from '../mime/index.js';
import { parseAddressList } from '../mime/address.js';
import { fieldColon, fieldNameEnd, fieldValue, scanFields, unfold, type RawField } from '../mime/header.js';
import { isBlankLine, lineEnd } from '../mime/bytes.js';
import type { AddressPart, FieldSlots } from './program.js';

export interface SplitAddress {
  all: string;
  localpart: string;
  domain: string;
}

const NONE: string[] = [];
const NO_ADDRESSES: SplitAddress[][] = [];

/**
 * One field name's fields, and what the tests have read of them so far. Every property is there
 * from the start (undefined until read): added as tests ask, in whatever order a script's tests
 * come, they gave these objects up to six hidden classes, and the reads of them in the
 * interpreter's hot functions saw them all (the filter step: ~0.5 µs less, bench/RESULTS.md).
 */
interface Field {
  fields: RawField[];
  raw: string[] | undefined;
  decoded: string[] | undefined;
  addresses: SplitAddress[][] | undefined;
  /** One part of every address (partsOf), by PART_SLOTS[part]: an array, not a Map made per field and run. */
  parts: Array<string[] | undefined> | undefined;
}

export class MessageView {
  /**
   * The fields by lower-cased name, one map for everything kept of them (a map per kind of value
   * was five maps per message); values are read out only when a test asks (most fields never are).
   * Made on the first question about a field that has no slot (a script's prepared tests ask only
   * about slots: prepare.ts).
   */
  private byName: Map<string, Field> | null = null;
  /** The fields of each slot of `slots` (undefined: the message has none of that name). */
  private readonly slotted: Array<Field | undefined>;

  /** `fields`: the names whose fields are found while the header is scanned (Program.fields). */
  constructor(
    readonly header: Buffer,
    private readonly fields: FieldSlots = NO_SLOTS,
  ) {
    this.slotted = new Array<Field | undefined>(fields.names.length).fill(undefined);
    if (fields.names.length > 0) scanSlots(header, fields.names, this.slotted);
  }

  /** The fields called `name` (lower-cased), or undefined. */
  private field(key: string): Field | undefined {
    const slot = this.fields.slots.get(key);
    if (slot !== undefined) return this.slotted[slot];
    return (this.byName ??= this.index()).get(key);
  }

  private index(): Map<string, Field> {
    const byName = new Map<string, Field>();
    for (const f of scanFields(this.header, 0, this.header.length)) {
      const key = f.name.toLowerCase();
      const known = byName.get(key);
      if (known) known.fields.push(f);
      else byName.set(key, newField(f));
    }
    return byName;
  }

  /** Raw (unfolded, not decoded) values of every field called `name`, in order. Do not change the array returned. */
  raw(name: string): string[] {
    const field = this.field(name.toLowerCase());
    return field ? this.rawOf(field) : NONE;
  }

  private rawOf(field: Field): string[] {
    let raw = field.raw;
    if (raw === undefined) {
      // Loops, not map() with a closure, here and below: run for every field a run reads.
      const fields = field.fields;
      raw = field.raw = new Array<string>(fields.length);
      for (let i = 0; i < fields.length; i++) raw[i] = valueOf(this.header, fields[i]!);
    }
    return raw;
  }

  has(name: string): boolean {
    return this.field(name.toLowerCase()) !== undefined;
  }

  /** Values for the `header` test: decoded and trimmed (RFC 5228 §5.7). Do not change the array returned. */
  decoded(name: string): string[] {
    const field = this.field(name.toLowerCase());
    return field ? this.decodedOf(field) : NONE;
  }

  /** decoded() of the fields in `slot` (Program.fields). */
  decodedAt(slot: number): string[] {
    const field = this.slotted[slot];
    return field ? this.decodedOf(field) : NONE;
  }

  private decodedOf(field: Field): string[] {
    let decoded = field.decoded;
    if (decoded === undefined) {
      const raw = this.rawOf(field);
      decoded = field.decoded = new Array<string>(raw.length);
      for (let i = 0; i < raw.length; i++) decoded[i] = decodeHeaderText(raw[i]!).trim();
    }
    return decoded;
  }

  /** Addresses in every field called `name`; group names and markers are not addresses. */
  addresses(name: string): SplitAddress[] {
    return this.addressesByField(name).flat();
  }

  /**
   * One part (:all, :localpart, :domain, :user, :detail) of every address in the fields called
   * `name`, without the addresses that have no such part; kept, since scripts test the same
   * field many times. Do not change the array returned.
   */
  addressParts(name: string, part: AddressPart, separator: string): string[] {
    const field = this.field(name.toLowerCase());
    return field ? this.partsOf(field, part, separator) : NONE;
  }

  /** addressParts() of the fields in `slot` (Program.fields). */
  addressPartsAt(slot: number, part: AddressPart, separator: string): string[] {
    const field = this.slotted[slot];
    return field ? this.partsOf(field, part, separator) : NONE;
  }

  private partsOf(field: Field, part: AddressPart, separator: string): string[] {
    field.parts ??= new Array<string[] | undefined>(PARTS).fill(undefined);
    let out = field.parts[PART_SLOTS[part]];
    if (!out) {
      out = [];
      for (const list of this.addressesOf(field)) {
        for (const a of list) {
          const p = addressPart(a, part, separator);
          if (p !== null) out.push(p);
        }
      }
      field.parts[PART_SLOTS[part]] = out;
    }
    return out;
  }

  /** The addresses of each field called `name`, one list per field (for :index, RFC 5260 §6). Do not change the arrays returned. */
  addressesByField(name: string): SplitAddress[][] {
    const field = this.field(name.toLowerCase());
    return field ? this.addressesOf(field) : NO_ADDRESSES;
  }

  private addressesOf(field: Field): SplitAddress[][] {
    let addresses = field.addresses;
    if (addresses === undefined) {
      const raw = this.rawOf(field);
      addresses = field.addresses = new Array<SplitAddress[]>(raw.length);
      for (let i = 0; i < raw.length; i++) addresses[i] = addressList(raw[i]!);
    }
    return addresses;
  }
}

/** The addresses of one field's value; group names and markers are not addresses. */
function addressList(value: string): SplitAddress[] {
  const simple = simpleAddress(value);
  if (simple) return [simple];
  const list: SplitAddress[] = [];
  for (const a of parseAddressList(value) ?? []) {
    if (a.host === null || a.mailbox === null) continue;
    list.push({ all: a.host === '' ? a.mailbox : `${a.mailbox}@${a.host}`, localpart: a.mailbox, domain: a.host });
  }
  return list;
}

const NO_SLOTS: FieldSlots = { names: [], slots: new Map() };

/** Each address part's index in arrays kept by part. */
export const PART_SLOTS: Readonly<Record<AddressPart, number>> = { all: 0, localpart: 1, domain: 2, user: 3, detail: 4 };
export const PARTS = 5;

function newField(f: RawField): Field {
  return { fields: [f], raw: undefined, decoded: undefined, addresses: undefined, parts: undefined };
}

const SP = 0x20;
const HT = 0x09;

/**
 * The fields called one of `names`, into `out` by slot (the name's index): scanFields' reading of the header
 * (the same fields, continuation lines and malformed lines alike — test/sieve/prepared-tests.test.ts
 * compares them) without a string made for the name of every field; a name is compared with the
 * wanted ones in place, ASCII case folded.
 */
function scanSlots(header: Buffer, names: readonly string[], out: Array<Field | undefined>): void {
  const end = header.length;
  let current: RawField | null = null;
  let pos = 0;
  while (pos < end) {
    const next = lineEnd(header, pos, end);
    if (isBlankLine(header, pos, next)) break;
    const first = header[pos];
    if (first === SP || first === HT) {
      if (current) current.end = next;
      pos = next;
      continue;
    }
    current = null;
    const colon = fieldColon(header, pos, next);
    if (colon >= 0) {
      const last = fieldNameEnd(header, pos, colon);
      for (let slot = 0; slot < names.length; slot++) {
        const name = names[slot]!;
        if (!sameName(header, pos, last, name)) continue;
        current = { name, start: pos, valueStart: colon + 1, end: next };
        const known = out[slot];
        if (known) known.fields.push(current);
        else out[slot] = newField(current);
        break;
      }
    }
    pos = next;
  }
}

/**
 * fieldValue (src/mime/header.ts) of a field: its value unfolded, as text. An ASCII value (nearly
 * every field a script reads) is read straight from the header, not through a Buffer made for it
 * (subarray) and its toString; any other goes through fieldValue, which decides UTF-8 or latin1.
 */
function valueOf(header: Buffer, field: RawField): string {
  const start = field.valueStart;
  const end = field.end;
  for (let i = start; i < end; i++) if (header[i]! > 0x7f) return fieldValue(header, field);
  return unfold(header.toString('latin1', start, end));
}

/** raw[start, end) is `lower` (a lower-cased name), ASCII case folded. */
function sameName(raw: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = raw[start + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/*
 * The two shapes most address fields have — `local@domain` and `Display Name <local@domain>`,
 * dot-atoms both sides and a display name of plain words (RFC 5322 §3.2.3, §3.4) — read without
 * the full parser, which costs a run of the 50-rule script more than any other step
 * (bench/sieve-filter-alloc.ts). Anything else (quotes, comments, groups, lists, encoded words,
 * domain literals) goes to parseAddressList; on these two shapes both give the same local part
 * and domain (test/sieve/simple-address.test.ts compares them).
 *
 * A loop over the characters, not a regular expression: the same answers as
 * `^[ \t]*(?:(?:ATEXT+[ \t]+)*ATEXT+[ \t]*<DOT_ATOM@DOT_ATOM>|<DOT_ATOM@DOT_ATOM>|DOT_ATOM@DOT_ATOM)[ \t]*$`
 * (the test compares the two on random values), without the regular expression's compiled code,
 * the RegExp builtins and a match array of seven captures for every address field a run reads —
 * at delivery all of it was loaded cold (bench/RESULTS.md, "Sieve: evaluating the rules").
 */

/** RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~ (by character code, 0–127). */
const ATEXT_CODES = (() => {
  const t = new Uint8Array(128);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~") t[c.charCodeAt(0)] = 1;
  return t;
})();

function isAtext(c: number): boolean {
  return c < 128 && ATEXT_CODES[c] === 1;
}

/** value[from, to) is a dot-atom: atext runs joined by single dots. */
function isDotAtom(value: string, from: number, to: number): boolean {
  if (from >= to) return false;
  let afterDot = true;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2e) {
      if (afterDot) return false;
      afterDot = true;
    } else if (isAtext(c)) {
      afterDot = false;
    } else {
      return false;
    }
  }
  return !afterDot;
}

/** value[from, to) is `dot-atom@dot-atom`: the address, or null. */
function addrSpec(value: string, from: number, to: number): SplitAddress | null {
  const at = value.indexOf('@', from);
  if (at < 0 || at >= to || !isDotAtom(value, from, at) || !isDotAtom(value, at + 1, to)) return null;
  const localpart = value.slice(from, at);
  const domain = value.slice(at + 1, to);
  return { all: `${localpart}@${domain}`, localpart, domain };
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** `value` as one address when it has one of the two simple shapes, else null (use the parser). */
export function simpleAddress(value: string): SplitAddress | null {
  let start = 0;
  let end = value.length;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  if (start === end) return null;
  if (value.charCodeAt(end - 1) !== 0x3e /* > */) return addrSpec(value, start, end);
  const open = value.lastIndexOf('<', end - 1);
  if (open < start) return null;
  // Before "<": nothing, or words of atext separated by blanks (blanks after the last allowed).
  let nameEnd = open;
  while (nameEnd > start && isBlank(value.charCodeAt(nameEnd - 1))) nameEnd--;
  for (let i = start; i < nameEnd; i++) {
    const c = value.charCodeAt(i);
    if (!isAtext(c) && !isBlank(c)) return null;
  }
  return addrSpec(value, open + 1, end - 1);
}

/** An envelope address (no angle brackets) split at its last "@"; "" (the null sender) is all empty. */
export function splitEnvelopeAddress(addr: string): SplitAddress {
  // One "<" in front and one ">" at the end dropped (as /^<|>$/g would, without a regular expression per run).
  const a = addr.slice(addr.startsWith('<') ? 1 : 0, addr.length > 0 && addr.endsWith('>') ? -1 : addr.length);
  const at = a.lastIndexOf('@');
  if (at < 0) return { all: a, localpart: a, domain: '' };
  return { all: a, localpart: a.slice(0, at), domain: a.slice(at + 1) };
}

/**
 * The part of an address a test looks at (RFC 5228 §2.7.4, RFC 5233 :user/:detail); null when
 * the address has no such part (:detail of an address without a separator) and cannot match.
 */
export function addressPart(a: SplitAddress, part: AddressPart, separator: string): string | null {
  switch (part) {
    case 'all':
      return a.all;
    case 'localpart':
      return a.localpart;
    case 'domain':
      return a.domain;
    case 'user':
    case 'detail': {
      const at = separator === '' ? -1 : a.localpart.indexOf(separator);
      if (part === 'user') return at < 0 ? a.localpart : a.localpart.slice(0, at);
      return at < 0 ? null : a.localpart.slice(at + separator.length);
    }
  }
}

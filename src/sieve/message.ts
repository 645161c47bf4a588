/**
 * The message as the tests see it: header fields by name (unfolded; RFC 2047-decoded for `header`,
 * RFC 5228 §2.7.2), the addresses of address fields (src/mime's RFC 5322 parser), and envelope
 * addresses split into local part and domain. The header is scanned once per run; a field's
 * value is read, decoded or parsed the first time a test asks for it, and kept for the next.
 */
import { decodeHeaderText } from '../mime/index.js';
import { parseAddressList } from '../mime/address.js';
import { fieldValue, scanFields, type RawField } from '../mime/header.js';
import type { AddressPart } from './program.js';

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
  parts: Map<AddressPart, string[]> | undefined;
}

export class MessageView {
  /**
   * The fields by lower-cased name, one map for everything kept of them (a map per kind of value
   * was five maps per message); values are read out only when a test asks (most fields never are).
   */
  private readonly byName = new Map<string, Field>();

  constructor(readonly header: Buffer) {
    for (const f of scanFields(header, 0, header.length)) {
      const key = f.name.toLowerCase();
      const known = this.byName.get(key);
      if (known) known.fields.push(f);
      else this.byName.set(key, { fields: [f], raw: undefined, decoded: undefined, addresses: undefined, parts: undefined });
    }
  }

  /** Raw (unfolded, not decoded) values of every field called `name`, in order. Do not change the array returned. */
  raw(name: string): string[] {
    const field = this.byName.get(name.toLowerCase());
    if (!field) return NONE;
    return (field.raw ??= field.fields.map((f) => fieldValue(this.header, f)));
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** Values for the `header` test: decoded and trimmed (RFC 5228 §5.7). Do not change the array returned. */
  decoded(name: string): string[] {
    const field = this.byName.get(name.toLowerCase());
    if (!field) return NONE;
    return (field.decoded ??= this.raw(name).map((v) => decodeHeaderText(v).trim()));
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
    const field = this.byName.get(name.toLowerCase());
    if (!field) return NONE;
    field.parts ??= new Map();
    let out = field.parts.get(part);
    if (!out) {
      out = [];
      for (const list of this.addressesByField(name)) {
        for (const a of list) {
          const p = addressPart(a, part, separator);
          if (p !== null) out.push(p);
        }
      }
      field.parts.set(part, out);
    }
    return out;
  }

  /** The addresses of each field called `name`, one list per field (for :index, RFC 5260 §6). Do not change the arrays returned. */
  addressesByField(name: string): SplitAddress[][] {
    const field = this.byName.get(name.toLowerCase());
    if (!field) return NO_ADDRESSES;
    return (field.addresses ??= this.raw(name).map((v) => {
      const simple = simpleAddress(v);
      if (simple) return [simple];
      const list: SplitAddress[] = [];
      for (const a of parseAddressList(v) ?? []) {
        if (a.host === null || a.mailbox === null) continue;
        list.push({ all: a.host === '' ? a.mailbox : `${a.mailbox}@${a.host}`, localpart: a.mailbox, domain: a.host });
      }
      return list;
    }));
  }
}

/*
 * The two shapes most address fields have — `local@domain` and `Display Name <local@domain>`,
 * dot-atoms both sides and a display name of plain words (RFC 5322 §3.2.3, §3.4) — read without
 * the full parser, which costs a run of the 50-rule script more than any other step
 * (bench/sieve-filter-alloc.ts). Anything else (quotes, comments, groups, lists, encoded words,
 * domain literals) goes to parseAddressList; on these two shapes both give the same local part
 * and domain (test/sieve/simple-address.test.ts compares them).
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const SIMPLE_ADDRESS = new RegExp(`^[ \\t]*(?:(?:${ATEXT}[ \\t]+)*${ATEXT}[ \\t]*<(${DOT_ATOM})@(${DOT_ATOM})>|<(${DOT_ATOM})@(${DOT_ATOM})>|(${DOT_ATOM})@(${DOT_ATOM}))[ \\t]*$`);

/** `value` as one address when it has one of the two simple shapes, else null (use the parser). */
export function simpleAddress(value: string): SplitAddress | null {
  const m = SIMPLE_ADDRESS.exec(value);
  if (!m) return null;
  const localpart = (m[1] ?? m[3] ?? m[5])!;
  const domain = (m[2] ?? m[4] ?? m[6])!;
  return { all: `${localpart}@${domain}`, localpart, domain };
}

/** An envelope address (no angle brackets) split at its last "@"; "" (the null sender) is all empty. */
export function splitEnvelopeAddress(addr: string): SplitAddress {
  const a = addr.replace(/^<|>$/g, '');
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

/**
 * Server responses, parsed on their own terms — not with the server's parser, so a mistake there
 * cannot hide itself here. Input is one response as the load client frames it (bench/load/wire-
 * client.ts): its text with each literal replaced by `{#k}`, and the literals.
 */
import type { Response } from '../load/wire-client.js';

/** atom → string; quoted string → { q }; literal → Buffer; list → array; NIL → null. */
export type Value = string | { q: string } | Buffer | Value[] | null;

export type Parsed =
  | { kind: 'continuation'; text: string }
  | { kind: 'tagged'; tag: string; status: string; code: string | null; codeArgs: Value[]; text: string }
  | { kind: 'status'; status: string; code: string | null; codeArgs: Value[]; text: string }
  | { kind: 'number'; n: number; name: string; items: Value[] }
  | { kind: 'data'; name: string; args: Value[] };

export class ParseFailure extends Error {}

class Reader {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly literals: Buffer[],
  ) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }

  peek(): string {
    return this.s[this.i] ?? '';
  }

  space(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  rest(): string {
    const r = this.s.slice(this.i);
    this.i = this.s.length;
    return r;
  }

  /** An atom; `[...]` inside it (BODY[HEADER.FIELDS (A B)]) and a `<n>` suffix belong to it. */
  atom(): string {
    const start = this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '[') depth++;
      else if (c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (c === ' ' || c === '(' || c === ')')) break;
      this.i++;
    }
    if (this.i === start) throw new ParseFailure(`empty atom at ${this.i}: ${this.s.slice(0, 120)}`);
    return this.s.slice(start, this.i);
  }

  value(): Value {
    const c = this.peek();
    if (c === '(') {
      this.i++;
      const list: Value[] = [];
      for (;;) {
        this.space();
        if (this.peek() === ')') {
          this.i++;
          return list;
        }
        if (this.done) throw new ParseFailure(`unterminated list: ${this.s.slice(0, 120)}`);
        list.push(this.value());
      }
    }
    if (c === '"') {
      let out = '';
      this.i++;
      for (;;) {
        const d = this.s[this.i++];
        if (d === undefined) throw new ParseFailure('unterminated quoted string');
        if (d === '"') return { q: out };
        if (d === '\\') out += this.s[this.i++] ?? '';
        else out += d;
      }
    }
    if (c === '{' && this.s[this.i + 1] === '#') {
      const m = /^\{#(\d+)\}/.exec(this.s.slice(this.i));
      if (!m) throw new ParseFailure('bad literal placeholder');
      this.i += m[0].length;
      const lit = this.literals[Number(m[1])];
      if (!lit) throw new ParseFailure('missing literal');
      return lit;
    }
    const a = this.atom();
    return a.toUpperCase() === 'NIL' ? null : a;
  }

  /** `[CODE args]` after a status word, if present. */
  code(): { code: string | null; codeArgs: Value[] } {
    this.space();
    if (this.peek() !== '[') return { code: null, codeArgs: [] };
    this.i++;
    const code = this.atom().toUpperCase();
    const codeArgs: Value[] = [];
    for (;;) {
      this.space();
      if (this.peek() === ']') {
        this.i++;
        return { code, codeArgs };
      }
      if (this.done) throw new ParseFailure('unterminated response code');
      codeArgs.push(this.value());
    }
  }
}

const STATUS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);

export function parseResponse(r: Response): Parsed {
  const text = r.text;
  if (text.startsWith('+')) return { kind: 'continuation', text: text.slice(1).trim() };
  const rd = new Reader(text, r.literals);
  const tag = rd.atom();
  rd.space();
  if (tag !== '*') {
    const status = rd.atom().toUpperCase();
    const { code, codeArgs } = rd.code();
    rd.space();
    return { kind: 'tagged', tag, status, code, codeArgs, text: rd.rest() };
  }
  const first = rd.atom();
  rd.space();
  if (/^\d+$/.test(first)) {
    const name = rd.atom().toUpperCase();
    const items: Value[] = [];
    for (rd.space(); !rd.done; rd.space()) items.push(rd.value());
    return { kind: 'number', n: Number(first), name, items };
  }
  const name = first.toUpperCase();
  if (STATUS.has(name)) {
    const { code, codeArgs } = rd.code();
    rd.space();
    return { kind: 'status', status: name, code, codeArgs, text: rd.rest() };
  }
  const args: Value[] = [];
  for (rd.space(); !rd.done; rd.space()) args.push(rd.value());
  return { kind: 'data', name, args };
}

export const str = (v: Value | undefined): string | null =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'q' in v ? v.q : Buffer.isBuffer(v) ? v.toString('latin1') : null;

export const num = (v: Value | undefined): number | null => {
  const s = typeof v === 'string' ? v : null;
  return s !== null && /^\d+$/.test(s) ? Number(s) : null;
};

/** FETCH items as a map from upper-cased item name to value. */
export function fetchItems(items: Value[]): Map<string, Value> {
  const list = items[0];
  if (!Array.isArray(list) || list.length % 2 !== 0) throw new ParseFailure('FETCH data is not a list of pairs');
  const out = new Map<string, Value>();
  for (let i = 0; i < list.length; i += 2) {
    const key = list[i];
    if (typeof key !== 'string') throw new ParseFailure('FETCH item name is not an atom');
    out.set(key.toUpperCase(), list[i + 1] ?? null);
  }
  return out;
}

/**
 * Turns a SearchQuery into SQL where every key has an exact SQL equivalent of matchesQuery
 * (src/store/search-eval.ts, the reference): UID, flags, size, modseq, dates, and the five indexed
 * header fields. BODY, TEXT and other header fields have no column; a query with them is answered by
 * running matchesQuery over the stored messages, after narrowing the candidates with whatever part
 * of a top-level AND did compile.
 *
 * SQL's NULL would make NOT(...) disagree with the reference, so every atom is coalesced to 0/1.
 */
import { foldText } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import { INDEXED_HEADERS, type IndexedHeader } from './search-columns.js';

export interface SqlFragment {
  sql: string;
  params: Array<string | number>;
}

const HEADER_COLUMN: Record<IndexedHeader, string> = {
  from: 'cs.hdr_from',
  to: 'cs.hdr_to',
  cc: 'cs.hdr_cc',
  bcc: 'cs.hdr_bcc',
  subject: 'cs.hdr_subject',
};

const DAY_OP = { before: '<', on: '=', since: '>=' } as const;

/** UID ranges compiled into SQL; more are matched by the reference evaluator. */
const MAX_SQL_RANGES = 200;

/** SQL for `query`, or null when some key needs the reference evaluator. */
export function compileQuery(query: SearchQuery): SqlFragment | null {
  switch (query.type) {
    case 'all':
      return { sql: '1', params: [] };
    case 'and':
    case 'or': {
      const parts = query.of.map(compileQuery);
      if (parts.some((p) => p === null)) return null;
      if (parts.length === 0) return { sql: query.type === 'and' ? '1' : '0', params: [] };
      const joiner = query.type === 'and' ? ' AND ' : ' OR ';
      return { sql: `(${parts.map((p) => p!.sql).join(joiner)})`, params: parts.flatMap((p) => p!.params) };
    }
    case 'not': {
      const inner = compileQuery(query.of);
      return inner && { sql: `(NOT ${inner.sql})`, params: inner.params };
    }
    case 'uid': {
      if (query.ranges.length === 0) return { sql: '0', params: [] };
      // SQLite parses a chain of ORs as a tree as deep as the chain (at most 1,000 deep): a set of
      // many ranges ("UID 1,3,5,…") is checked by the evaluator instead, on the rows the rest selects.
      if (query.ranges.length > MAX_SQL_RANGES) return null;
      const sql = query.ranges.map(() => '(m.uid BETWEEN ? AND ?)').join(' OR ');
      return { sql: `(${sql})`, params: query.ranges.flatMap(([a, b]) => [Math.min(a, b), Math.max(a, b)]) };
    }
    case 'flag': {
      // Flags are stored space-separated; only ASCII atoms fold the same in SQLite's lower() and JS.
      if (!/^[\x21-\x7e]+$/.test(query.flag)) return null;
      const test = "instr(' ' || lower(m.flags) || ' ', ' ' || ? || ' ') > 0";
      return { sql: query.set ? `(${test})` : `(NOT ${test})`, params: [query.flag.toLowerCase()] };
    }
    case 'size':
      return { sql: query.op === 'larger' ? '(m.size > ?)' : '(m.size < ?)', params: [query.octets] };
    case 'modseq':
      return { sql: '(m.modseq >= ?)', params: [query.min] };
    case 'internaldate':
      // search-eval compares the UTC calendar day of the internal date.
      return { sql: `(strftime('%Y-%m-%d', m.internal_date / 1000.0, 'unixepoch') ${DAY_OP[query.op]} ?)`, params: [query.day] };
    case 'arrival':
      // internal_date is INTEGER milliseconds: integer division truncates as search-eval does.
      return { sql: `((m.internal_date / 1000) ${query.op === 'until' ? '<=' : '>='} ?)`, params: [Math.trunc(query.time / 1000)] };
    case 'sentdate':
      return { sql: `coalesce(cs.sent_day ${DAY_OP[query.op]} ?, 0)`, params: [query.day] };
    case 'header': {
      const name = query.name.toLowerCase();
      if (!(INDEXED_HEADERS as readonly string[]).includes(name)) return null;
      const column = HEADER_COLUMN[name as IndexedHeader];
      if (query.value === '') return { sql: `(${column} IS NOT NULL)`, params: [] };
      const needle = foldText(query.value);
      if (needle.includes('\u0000')) return null;
      return { sql: `coalesce(instr(${column}, ?) > 0, 0)`, params: [needle] };
    }
    case 'body':
    case 'text':
      return null;
  }
}

/**
 * Splits a query that does not compile as a whole into a SQL prefilter (the compilable conjuncts of
 * a top-level AND) and the query the evaluator must still check on the survivors.
 */
export function planQuery(query: SearchQuery): { filter: SqlFragment; residual: SearchQuery | null } {
  const whole = compileQuery(query);
  if (whole) return { filter: whole, residual: null };
  if (query.type !== 'and') return { filter: { sql: '1', params: [] }, residual: query };
  const compiled: SqlFragment[] = [];
  const rest: SearchQuery[] = [];
  for (const sub of query.of) {
    const c = compileQuery(sub);
    if (c) compiled.push(c);
    else rest.push(sub);
  }
  const filter =
    compiled.length === 0
      ? { sql: '1', params: [] }
      : { sql: compiled.map((c) => c.sql).join(' AND '), params: compiled.flatMap((c) => c.params) };
  return { filter, residual: rest.length === 1 ? rest[0]! : { type: 'and', of: rest } };
}

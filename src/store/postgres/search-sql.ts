/**
 * SEARCH pushed down to PostgreSQL where a key has an exact SQL equivalent of the reference
 * evaluator matchesQuery (src/store/search-eval.ts): UID, flags, size, modseq, both date kinds and
 * the five indexed header fields. BODY, TEXT and other header fields run matchesQuery over the
 * candidates that the compilable conjuncts of a top-level AND left. Every atom is coalesced to a
 * boolean so NULL cannot make NOT disagree with the reference.
 *
 * Fragments use `?` placeholders; `numbered()` turns them into $n after the fixed parameters.
 */
import { emailIdDigestRange } from '../object-ids.js';
import { foldText } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import { INDEXED_HEADERS, type IndexedHeader } from './contents.js';

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

const HEADER_COLUMN: Record<IndexedHeader, string> = {
  from: 'c.cm_from',
  to: 'c.cm_to',
  cc: 'c.cm_cc',
  bcc: 'c.cm_bcc',
  subject: 'c.cm_subject',
};

const DAY_OP = { before: '<', on: '=', since: '>=' } as const;

/**
 * How much of a query becomes SQL. Beyond this a query is evaluated in code (the reference
 * evaluator, over the rows the rest selects): a statement of thousands of terms costs more to plan
 * than to evaluate, and PostgreSQL's parser recursion is bounded by max_stack_depth.
 */
const MAX_SQL_TERMS = 500;
const MAX_SQL_UID_RANGES = 100;
const MAX_SQL_PARAMS = 10_000;
const TRUE: SqlFragment = { sql: 'true', params: [] };

export function compileQuery(query: SearchQuery): SqlFragment | null {
  switch (query.type) {
    case 'all':
      return TRUE;
    case 'and':
    case 'or': {
      if (query.of.length > MAX_SQL_TERMS) return null;
      const parts = query.of.map(compileQuery);
      if (parts.some((p) => p === null)) return null;
      if (parts.length === 0) return { sql: query.type === 'and' ? 'true' : 'false', params: [] };
      const joiner = query.type === 'and' ? ' AND ' : ' OR ';
      return { sql: `(${parts.map((p) => p!.sql).join(joiner)})`, params: parts.flatMap((p) => p!.params) };
    }
    case 'not': {
      const inner = compileQuery(query.of);
      return inner && { sql: `(NOT ${inner.sql})`, params: inner.params };
    }
    case 'uid': {
      if (query.ranges.length === 0) return { sql: 'false', params: [] };
      if (query.ranges.length > MAX_SQL_UID_RANGES) return null;
      const sql = query.ranges.map(() => '(m.uid BETWEEN ? AND ?)').join(' OR ');
      return { sql: `(${sql})`, params: query.ranges.flatMap(([a, b]) => [Math.min(a, b), Math.max(a, b)]) };
    }
    case 'flag': {
      // Only ASCII atoms fold the same in PostgreSQL's lower() (locale-dependent) and JavaScript.
      if (!/^[\x21-\x7e]+$/.test(query.flag)) return null;
      const test = "(strpos(' ' || lower(m.flags COLLATE \"C\") || ' ', ?) > 0)";
      return { sql: query.set ? test : `(NOT ${test})`, params: [` ${query.flag.toLowerCase()} `] };
    }
    case 'size':
      return { sql: query.op === 'larger' ? '(m.size > ?)' : '(m.size < ?)', params: [query.octets] };
    case 'modseq':
      return { sql: '(m.modseq >= ?)', params: [query.min] };
    case 'internaldate':
      // search-eval compares the UTC calendar day of the internal date.
      return {
        sql: `(to_char(to_timestamp(m.internal_date / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') ${DAY_OP[query.op]} ?)`,
        params: [query.day],
      };
    case 'savedate':
      // NULL (a row from before save dates were kept) matches no day, as in search-eval.
      return {
        sql: `coalesce(to_char(to_timestamp(m.save_date / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') ${DAY_OP[query.op]} ?, false)`,
        params: [query.day],
      };
    case 'emailid': {
      // The digests with the EMAILID's 12 bytes as prefix: a range on the unique index.
      const range = emailIdDigestRange(query.id);
      if (!range) return { sql: 'false', params: [] };
      const lower = Buffer.from(range.lower, 'hex');
      if (!range.upper) return { sql: '(c.sha256 >= ?)', params: [lower] };
      return { sql: '(c.sha256 >= ? AND c.sha256 < ?)', params: [lower, Buffer.from(range.upper, 'hex')] };
    }
    case 'arrival':
      // internal_date is milliseconds: integer division truncates as search-eval does.
      return { sql: `((m.internal_date / 1000) ${query.op === 'until' ? '<=' : '>='} ?)`, params: [Math.trunc(query.time / 1000)] };
    case 'sentdate':
      return { sql: `coalesce(c.sent_day ${DAY_OP[query.op]} ?, false)`, params: [query.day] };
    case 'header': {
      const name = query.name.toLowerCase();
      if (!(INDEXED_HEADERS as readonly string[]).includes(name)) return null;
      const column = HEADER_COLUMN[name as IndexedHeader];
      if (query.value === '') return { sql: `(${column} IS NOT NULL)`, params: [] };
      const needle = foldText(query.value);
      // NUL separates occurrences; a lone surrogate has no UTF-8 form to compare bytes with.
      if (needle.includes('\u0000') || /[\ud800-\udfff]/u.test(needle)) return null;
      return { sql: `coalesce(position(?::bytea IN ${column}) > 0, false)`, params: [Buffer.from(needle, 'utf8')] };
    }
    case 'body':
    case 'text':
      return null;
  }
}

/** The SQL prefilter (compilable conjuncts of a top-level AND) and what the evaluator must still check. */
export function planQuery(query: SearchQuery): { filter: SqlFragment; residual: SearchQuery | null } {
  const plan = planUnbounded(query);
  if (plan.filter.params.length <= MAX_SQL_PARAMS) return plan;
  return { filter: TRUE, residual: query };
}

function planUnbounded(query: SearchQuery): { filter: SqlFragment; residual: SearchQuery | null } {
  const whole = compileQuery(query);
  if (whole) return { filter: whole, residual: null };
  if (query.type !== 'and') return { filter: TRUE, residual: query };
  const compiled: SqlFragment[] = [];
  const rest: SearchQuery[] = [];
  for (const sub of query.of) {
    const c = compileQuery(sub);
    if (c) compiled.push(c);
    else rest.push(sub);
  }
  const filter = compiled.length === 0 ? TRUE : { sql: compiled.map((c) => c.sql).join(' AND '), params: compiled.flatMap((c) => c.params) };
  return { filter, residual: rest.length === 1 ? rest[0]! : { type: 'and', of: rest } };
}

/** `?` → `$n`, numbering from `first`. */
export function numbered(sql: string, first: number): string {
  let n = first;
  return sql.replace(/\?/g, () => `$${n++}`);
}

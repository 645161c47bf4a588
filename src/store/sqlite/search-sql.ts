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
import { emailIdDigestRange } from '../object-ids.js';

export interface SqlFragment {
  sql: string;
  params: Array<string | number>;
}

const HEADER_COLUMN: Record<IndexedHeader, string> = {
  from: 'cs.cm_from',
  to: 'cs.cm_to',
  cc: 'cs.cm_cc',
  bcc: 'cs.cm_bcc',
  subject: 'cs.cm_subject',
};

const DAY_OP = { before: '<', on: '=', since: '>=' } as const;

/**
 * How much of a query is compiled into one statement. SQLite refuses expression trees deeper than
 * 1000 (a flat chain of 950 ANDs already fails) and more than 32,766 parameters, and preparing a
 * statement costs time on the event loop in proportion to its size (30,000 terms: about 240 ms, 1,000 about 2 ms).
 * Within these bounds a statement prepares in a few ms; whatever is beyond them is evaluated in code,
 * in steps that yield (search-run.ts). Terms are joined as balanced trees, so depth grows with the
 * logarithm of their number.
 */
export const SQL_LIMITS = { maxTerms: 500, maxParams: 10_000, maxDepth: 500, maxUidRanges: 100 };

interface Compiled extends SqlFragment {
  /** Depth of the expression tree, as SQLite counts it (estimated from above). */
  depth: number;
  terms: number;
}

const LEAF_DEPTH = 6;

function leaf(sql: string, params: Array<string | number>): Compiled {
  return { sql, params, depth: LEAF_DEPTH, terms: 1 };
}

/** `parts` joined by AND / OR as a balanced tree. */
function joinBalanced(parts: Compiled[], joiner: 'AND' | 'OR'): Compiled {
  if (parts.length === 1) return parts[0]!;
  const mid = parts.length >> 1;
  const left = joinBalanced(parts.slice(0, mid), joiner);
  const right = joinBalanced(parts.slice(mid), joiner);
  return {
    sql: `(${left.sql} ${joiner} ${right.sql})`,
    params: [...left.params, ...right.params],
    depth: Math.max(left.depth, right.depth) + 1,
    terms: left.terms + right.terms,
  };
}

function withinLimits(c: Compiled): boolean {
  return c.terms <= SQL_LIMITS.maxTerms && c.params.length <= SQL_LIMITS.maxParams && c.depth <= SQL_LIMITS.maxDepth;
}

/** SQL for `query`, or null when some key needs the reference evaluator or the query is too large. */
export function compileQuery(query: SearchQuery): SqlFragment | null {
  const c = compileNode(query);
  return c && withinLimits(c) ? { sql: c.sql, params: c.params } : null;
}

function compileNode(query: SearchQuery): Compiled | null {
  switch (query.type) {
    case 'all':
      return leaf('1', []);
    case 'and':
    case 'or': {
      if (query.of.length === 0) return leaf(query.type === 'and' ? '1' : '0', []);
      const parts: Compiled[] = [];
      let terms = 0;
      for (const sub of query.of) {
        const c = compileNode(sub);
        if (c === null) return null;
        terms += c.terms;
        // Stop early: a query far beyond the limits is not compiled in full only to be dropped.
        if (terms > SQL_LIMITS.maxTerms) return null;
        parts.push(c);
      }
      return joinBalanced(parts, query.type === 'and' ? 'AND' : 'OR');
    }
    case 'not': {
      const inner = compileNode(query.of);
      return inner && { sql: `(NOT ${inner.sql})`, params: inner.params, depth: inner.depth + 1, terms: inner.terms };
    }
    case 'uid': {
      if (query.ranges.length === 0) return leaf('0', []);
      // A long UID set (a sequence set of every other message) is cheaper in code than as SQL.
      if (query.ranges.length > SQL_LIMITS.maxUidRanges) return null;
      const ranges = query.ranges.map(([a, b]) => leaf('(m.uid BETWEEN ? AND ?)', [Math.min(a, b), Math.max(a, b)]));
      return joinBalanced(ranges, 'OR');
    }
    case 'flag': {
      // Flags are stored space-separated; only ASCII atoms fold the same in SQLite's lower() and JS.
      if (!/^[\x21-\x7e]+$/.test(query.flag)) return null;
      const test = "instr(' ' || lower(m.flags) || ' ', ' ' || ? || ' ') > 0";
      return leaf(query.set ? `(${test})` : `(NOT ${test})`, [query.flag.toLowerCase()]);
    }
    case 'size':
      return leaf(query.op === 'larger' ? '(m.size > ?)' : '(m.size < ?)', [query.octets]);
    case 'modseq':
      return leaf('(m.modseq >= ?)', [query.min]);
    case 'internaldate':
      // search-eval compares the UTC calendar day of the internal date.
      return leaf(`(strftime('%Y-%m-%d', m.internal_date / 1000.0, 'unixepoch') ${DAY_OP[query.op]} ?)`, [query.day]);
    case 'savedate':
      // NULL (a row from before save dates were kept) matches no day, as in search-eval.
      return leaf(`coalesce(strftime('%Y-%m-%d', m.save_date / 1000.0, 'unixepoch') ${DAY_OP[query.op]} ?, 0)`, [query.day]);
    case 'emailid': {
      // EMAILIDs are emailIdOf(sha256): the digests starting with those 12 bytes, found through
      // the UNIQUE index on contents.sha256 as a range (a BLOB compares as its bytes).
      const range = emailIdDigestRange(query.id);
      if (!range) return leaf('0', []);
      const upper = range.upper ? ` AND sha256 < X'${range.upper}'` : '';
      return leaf(`(m.content_id IN (SELECT id FROM contents WHERE sha256 >= X'${range.lower}'${upper}))`, []);
    }
    case 'arrival':
      // internal_date is INTEGER milliseconds: integer division truncates as search-eval does.
      return leaf(`((m.internal_date / 1000) ${query.op === 'until' ? '<=' : '>='} ?)`, [Math.trunc(query.time / 1000)]);
    case 'sentdate':
      return leaf(`coalesce(cs.sent_day ${DAY_OP[query.op]} ?, 0)`, [query.day]);
    case 'header': {
      const name = query.name.toLowerCase();
      if (!(INDEXED_HEADERS as readonly string[]).includes(name)) return null;
      const column = HEADER_COLUMN[name as IndexedHeader];
      if (query.value === '') return leaf(`(${column} IS NOT NULL)`, []);
      const needle = foldText(query.value);
      if (needle.includes('\u0000')) return null;
      return leaf(`coalesce(instr(${column}, ?) > 0, 0)`, [needle]);
    }
    case 'body':
    case 'text':
      return null;
  }
}

/**
 * Splits a query that does not compile as a whole into a SQL prefilter (compilable conjuncts of a
 * top-level AND, as many as the limits allow) and the query the evaluator must still check on the
 * survivors.
 */
export function planQuery(query: SearchQuery): { filter: SqlFragment; residual: SearchQuery | null } {
  const whole = compileQuery(query);
  if (whole) return { filter: whole, residual: null };
  if (query.type !== 'and') return { filter: { sql: '1', params: [] }, residual: query };
  const compiled: Compiled[] = [];
  const rest: SearchQuery[] = [];
  let terms = 0;
  let params = 0;
  for (const sub of query.of) {
    const c = terms < SQL_LIMITS.maxTerms ? compileNode(sub) : null;
    if (c && withinLimits(c) && terms + c.terms <= SQL_LIMITS.maxTerms && params + c.params.length <= SQL_LIMITS.maxParams) {
      compiled.push(c);
      terms += c.terms;
      params += c.params.length;
    } else {
      rest.push(sub);
    }
  }
  let filter: SqlFragment = { sql: '1', params: [] };
  if (compiled.length > 0) {
    const joined = joinBalanced(compiled, 'AND');
    // Each conjunct is within the depth limit; their balanced join adds log2(count) levels.
    filter = joined.depth <= SQL_LIMITS.maxDepth ? { sql: joined.sql, params: joined.params } : { sql: '1', params: [] };
    if (joined.depth > SQL_LIMITS.maxDepth) return { filter, residual: query };
  }
  if (rest.length === 0) return { filter, residual: null };
  return { filter, residual: rest.length === 1 ? rest[0]! : { type: 'and', of: rest } };
}

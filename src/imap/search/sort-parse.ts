/**
 * SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO, RFC 5267 §3 RETURN) and THREAD (RFC 5256 §4)
 * arguments → typed arguments. Pure: tokens in, ParseError (→ BAD) for anything malformed.
 *
 *   sort   = ["UID" SP] "SORT" [SP "RETURN" SP "(" opts ")"] SP sort-criteria SP charset 1*(SP search-key)
 *   thread = ["UID" SP] "THREAD" SP thread-alg SP charset 1*(SP search-key)
 */
import { ArgReader, ParseError } from '../wire/args.js';
import type { Token } from '../wire/types.js';
import type { ParseEnv } from '../commands/types.js';
import type { SortCriterion, SortKey } from '../../store/sort/sort.js';
import type { ThreadAlgorithm } from '../../store/sort/thread.js';
import { parseCriteria, parseReturnOptions } from './parse.js';
import type { ReturnOptions, SearchKey } from './keys.js';

export interface SortArgs {
  returnOptions?: ReturnOptions;
  /** The sort program, each key at most once (a repeated key cannot change the order). */
  program: SortCriterion[];
  /** Upper-cased charset (mandatory for SORT and THREAD). */
  charset: string;
  key: SearchKey;
  usesModseq: boolean;
}

export interface ThreadArgs {
  algorithm: ThreadAlgorithm;
  charset: string;
  key: SearchKey;
  usesModseq: boolean;
}

const SORT_KEYS: Record<string, SortKey> = {
  ARRIVAL: 'arrival',
  CC: 'cc',
  DATE: 'date',
  FROM: 'from',
  SIZE: 'size',
  SUBJECT: 'subject',
  TO: 'to',
  DISPLAYFROM: 'displayfrom',
  DISPLAYTO: 'displayto',
};

const ALGORITHMS: Record<string, ThreadAlgorithm> = {
  ORDEREDSUBJECT: 'orderedsubject',
  REFERENCES: 'references',
  REFS: 'refs',
};

/**
 * sort-criteria = "(" sort-criterion *(SP sort-criterion) ")", sort-criterion = ["REVERSE" SP] sort-key.
 * Messages equal by a key stay equal by it when it comes again, so later repeats are dropped: a
 * program of 10,000 criteria costs no more than one of nine.
 */
function parseProgram(r: ArgReader): SortCriterion[] {
  const list = r.list('sort criteria');
  if (list.remaining === 0) throw new ParseError('Empty sort criteria');
  const program: SortCriterion[] = [];
  const seen = new Set<SortKey>();
  while (list.remaining > 0) {
    let word = list.atom('sort key').toUpperCase();
    const reverse = word === 'REVERSE';
    if (reverse) word = list.atom('sort key after REVERSE').toUpperCase();
    const key = SORT_KEYS[word];
    if (!key) throw new ParseError(`Unknown sort key ${word.slice(0, 40)}`);
    if (seen.has(key)) continue;
    seen.add(key);
    program.push({ key, reverse });
  }
  return program;
}

/** charset = atom / quoted; after ENABLE UTF8=ACCEPT only UTF-8 (RFC 6855 §3, as for SEARCH). */
function parseCharset(r: ArgReader, env: ParseEnv): string {
  const charset = r.astring('charset').toUpperCase();
  if (env.enabled.has('UTF8=ACCEPT') && charset !== 'UTF-8' && charset !== 'US-ASCII') {
    throw new ParseError('Only UTF-8 is allowed after ENABLE UTF8=ACCEPT');
  }
  return charset;
}

export function parseSortArgs(tokens: Token[], env: ParseEnv): SortArgs {
  const r = new ArgReader(tokens);
  const returnOptions = r.acceptAtom('RETURN') ? parseReturnOptions(r) : undefined;
  const program = parseProgram(r);
  const charset = parseCharset(r, env);
  return { returnOptions, program, charset, ...parseCriteria(r, env) };
}

export function parseThreadArgs(tokens: Token[], env: ParseEnv): ThreadArgs {
  const r = new ArgReader(tokens);
  const name = r.atom('threading algorithm').toUpperCase();
  const algorithm = ALGORITHMS[name];
  if (!algorithm) throw new ParseError(`Unknown threading algorithm ${name.slice(0, 40)}`);
  const charset = parseCharset(r, env);
  return { algorithm, charset, ...parseCriteria(r, env) };
}

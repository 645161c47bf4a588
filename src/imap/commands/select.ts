import type { CommandSpec, ParseEnv, QresyncParams } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { mutf7Name, utf8Names } from './mailbox-name.js';
import { resolveRanges } from '../wire/sequence-set.js';

interface SelectArgs {
  name: string;
  /** RFC 7162 §3.1.8: the CONDSTORE select parameter was given. */
  condstore: boolean;
  /** RFC 7162 §3.2.5: the QRESYNC select parameter. */
  qresync?: QresyncParams;
}

/** Numbers a seq-match-data set may expand to: a sample, RFC 7162 §3.2.5.2, not a whole mailbox. */
const MAX_MATCH_NUMBERS = 100_000;

/** A sequence set without "*" or "$" (RFC 7162 §7 known-uids, known-sequence-set, known-uid-set). */
function knownSet(r: ArgReader, what: string): Array<[number, number]> {
  const set = r.sequenceSet(what);
  if (set.saved || set.ranges.some((x) => x.start === '*' || x.end === '*')) throw new ParseError(`"*" and "$" are not allowed in ${what}`);
  return resolveRanges(set.ranges, 0);
}

/** The ranges as a list of numbers, in the order written (ascending, RFC 7162 §3.2.5.2). */
function expand(r: ArgReader, what: string): number[] {
  const set = r.sequenceSet(what);
  if (set.saved) throw new ParseError(`"$" is not allowed in ${what}`);
  const out: number[] = [];
  for (const { start, end } of set.ranges) {
    if (start === '*' || end === '*') throw new ParseError(`"*" is not allowed in ${what}`);
    for (let n = Math.min(start, end); n <= Math.max(start, end); n++) {
      if (out.length >= MAX_MATCH_NUMBERS) throw new ParseError(`${what} longer than ${MAX_MATCH_NUMBERS} numbers`);
      out.push(n);
    }
  }
  return out;
}

/** `QRESYNC (uidvalidity modseq [known-uids [(known-sequence-set known-uid-set)]])` */
function parseQresync(list: ArgReader, env: ParseEnv): QresyncParams {
  // RFC 7162 §3.2.5: BAD unless the client enabled QRESYNC in this connection.
  if (!env.enabled.has('QRESYNC')) throw new ParseError('QRESYNC must be enabled first (ENABLE QRESYNC)');
  const p = list.list('QRESYNC parameters');
  const uidValidity = p.nzNumber('UIDVALIDITY');
  const modseq = p.number('mod-sequence');
  if (modseq < 1) throw new ParseError('mod-sequence out of range');
  const out: QresyncParams = { uidValidity, modseq };
  if (p.remaining > 0 && !p.isList()) out.knownUids = knownSet(p, 'known UIDs');
  if (p.remaining > 0) {
    // RFC 9586 §3: the match data pairs sequence numbers with UIDs; none are used under UIDONLY.
    if (env.enabled.has('UIDONLY')) throw ImapError.bad('No sequence match data once UIDONLY is enabled', 'UIDREQUIRED');
    const m = p.list('sequence match data');
    const seqs = expand(m, 'known sequence set');
    const uids = expand(m, 'known UID set');
    m.end();
    if (seqs.length !== uids.length) throw new ParseError('Sequence match data sets differ in length');
    out.seqMatch = { seqs, uids };
  }
  p.end();
  return out;
}

/**
 * RFC 4466 §2.1 select-params: `"(" select-param *(SP select-param) ")"`: CONDSTORE (RFC 7162
 * §3.1.8) and QRESYNC (§3.2.5); anything else is BAD, as the client would otherwise believe it had
 * turned on something we ignore.
 */
function parseSelectParams(r: ArgReader, env: ParseEnv): { condstore: boolean; qresync?: QresyncParams } {
  const list = r.list('select parameters');
  if (list.remaining === 0) throw new ParseError('Empty select parameter list');
  let condstore = false;
  let qresync: QresyncParams | undefined;
  while (list.remaining > 0) {
    const name = list.atom('select parameter').toUpperCase();
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC' && !qresync) qresync = parseQresync(list, env);
    else throw new ParseError(`Unknown select parameter ${name.slice(0, 40)}`);
  }
  return qresync ? { condstore, qresync } : { condstore };
}

function parseSelect(args: Parameters<CommandSpec['parse']>[0], env: ParseEnv): SelectArgs {
  const r = new ArgReader(args);
  const raw = r.astring('mailbox name');
  const params = r.remaining > 0 ? parseSelectParams(r, env) : { condstore: false };
  r.end();
  return { name: utf8Names(env.enabled) ? raw : mutf7Name(raw), ...params };
}

/** RFC 7162 §3.1.8 Example 18 tells the client in the tagged text that CONDSTORE is on. */
const completed = (verb: string, args: SelectArgs): string =>
  args.condstore ? `${verb} completed, CONDSTORE is now enabled` : `${verb} completed`;

/** RFC 3501 §6.3.1: the untagged FLAGS/EXISTS/RECENT/OK responses are written by ctx.select(). */
export const selectCommand: CommandSpec<SelectArgs> = {
  name: 'SELECT',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    // A mailbox the store marks read-only opens as EXAMINE would (RFC 3501 §6.3.1 allows READ-ONLY).
    const view = await ctx.select(args.name, { readOnly: false, condstore: args.condstore, qresync: args.qresync });
    return { code: { name: view.readOnly ? 'READ-ONLY' : 'READ-WRITE' }, text: completed('SELECT', args) };
  },
};

/** RFC 3501 §6.3.2: the same, read-only. */
export const examineCommand: CommandSpec<SelectArgs> = {
  name: 'EXAMINE',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    await ctx.select(args.name, { readOnly: true, condstore: args.condstore, qresync: args.qresync });
    return { code: { name: 'READ-ONLY' }, text: completed('EXAMINE', args) };
  },
};

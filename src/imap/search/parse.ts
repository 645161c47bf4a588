/**
 * SEARCH arguments (RFC 3501 §6.4.4, RFC 4731 RETURN, RFC 5182 SAVE, RFC 7162 MODSEQ) → SearchArgs.
 * Pure: tokens in, a key tree out, ParseError (→ BAD) for anything malformed.
 */
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { parseSequenceSet } from '../wire/sequence-set.js';
import { parseSearchDate } from '../wire/datetime.js';
import type { Token } from '../wire/types.js';
import type { ParseEnv } from '../commands/types.js';
import { parseFlag } from './flags.js';
import type { PartialRange, ReturnOptions, SearchArgs, SearchKey } from './keys.js';
import { parseFetchItems } from '../fetch/items.js';

/** Sequence sets are the only keys that start with a digit, "*" or "$". */
const SEQUENCE_SET = /^[0-9*$][0-9*:,$]*$/;

const FLAG_KEYS: Record<string, [flag: string, set: boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const ADDRESS_HEADERS: Record<string, string> = { BCC: 'Bcc', CC: 'Cc', FROM: 'From', TO: 'To', SUBJECT: 'Subject' };

const DATE_KEYS: Record<string, ['internaldate' | 'sentdate' | 'savedate', 'before' | 'on' | 'since']> = {
  BEFORE: ['internaldate', 'before'],
  ON: ['internaldate', 'on'],
  SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'],
  SENTON: ['sentdate', 'on'],
  SENTSINCE: ['sentdate', 'since'],
  // RFC 8514 §4.3
  SAVEDBEFORE: ['savedate', 'before'],
  SAVEDON: ['savedate', 'on'],
  SAVEDSINCE: ['savedate', 'since'],
};

/** RFC 8474 §7: objectid = 1*255(ALPHA / DIGIT / "_" / "-"), case-sensitive. */
const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** The highest UID there can be (RFC 3501 §2.3.1.1: 32-bit). */
const MAX_UID = 0xffffffff;
/** A key no message matches: UIDAFTER the highest UID, UIDBEFORE 1. */
const NOTHING: SearchKey = { type: 'not', of: { type: 'all' } };

const RETURN_NAMES = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'CONTEXT', 'UPDATE'] as const;

class KeyParser {
  usesModseq = false;
  constructor(
    private readonly maxDepth: number,
    /** RFC 9586 §3: UIDONLY is on, so a sequence-set key ("$" aside) is BAD [UIDREQUIRED]. */
    private readonly uidOnly = false,
  ) {}

  /** One search-key; `depth` counts the NOT/OR/parenthesis levels around it. */
  key(r: ArgReader, depth: number): SearchKey {
    if (depth > this.maxDepth) throw new ParseError('Search criteria nested too deeply');
    const t = r.next('search key');
    if (t.type === 'list') return this.group(new ArgReader(t.items), depth + 1);
    if (t.type !== 'atom' || t.section || t.partial) throw new ParseError('Expected a search key');
    const name = t.value.toUpperCase();

    const flagKey = FLAG_KEYS[name];
    if (flagKey) return { type: 'flag', flag: flagKey[0], set: flagKey[1] };
    const header = ADDRESS_HEADERS[name];
    if (header) return { type: 'header', name: header, value: r.astring(`${name} string`) };
    const dateKey = DATE_KEYS[name];
    if (dateKey) return { type: dateKey[0], op: dateKey[1], day: parseSearchDate(r.astring(`${name} date`)) };

    switch (name) {
      case 'ALL':
        return { type: 'all' };
      case 'EMAILID':
      case 'THREADID': {
        const id = r.astring(`${name} object id`);
        if (!OBJECT_ID.test(id)) throw new ParseError(`Invalid ${name}: an object id is 1-255 letters, digits, "_" or "-"`);
        return name === 'EMAILID' ? { type: 'emailid', id } : { type: 'threadid', id };
      }
      case 'SAVEDATESUPPORTED':
        return { type: 'savedatesupported' };
      case 'BODY':
        return { type: 'body', value: r.astring('BODY string') };
      case 'TEXT':
        return { type: 'text', value: r.astring('TEXT string') };
      case 'HEADER': {
        const field = r.astring('header field name');
        // RFC 5322 §2.2: a field name is printable US-ASCII except ":".
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw new ParseError('Invalid header field name');
        return { type: 'header', name: field, value: r.astring('HEADER string') };
      }
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const parsed = parseFlag(r.astring('keyword'));
        const set = name === 'KEYWORD';
        if (parsed.kind === 'recent') return { type: 'recent', set };
        return { type: 'flag', flag: parsed.flag, set };
      }
      case 'LARGER':
        return { type: 'size', op: 'larger', octets: r.number('LARGER size') };
      case 'SMALLER':
        return { type: 'size', op: 'smaller', octets: r.number('SMALLER size') };
      case 'RECENT':
        return { type: 'recent', set: true };
      case 'OLD':
        return { type: 'recent', set: false };
      case 'NEW':
        // RFC 3501 §6.4.4: NEW is "functionally equivalent to (RECENT UNSEEN)".
        return { type: 'and', of: [{ type: 'recent', set: true }, { type: 'flag', flag: '\\Seen', set: false }] };
      case 'NOT':
        return { type: 'not', of: this.key(r, depth + 1) };
      case 'OR':
        return { type: 'or', of: [this.key(r, depth + 1), this.key(r, depth + 1)] };
      case 'UID':
        return { type: 'uidset', set: r.sequenceSet('UID set') };
      case 'UIDAFTER':
      case 'UIDBEFORE': {
        // RFC 9738 (MESSAGELIMIT): UIDs above / below a UID, to go on where a limited answer
        // stopped. Explicit bounds rather than "n:*", which would take in the highest UID when n
        // is beyond it.
        const uid = r.number(`${name} UID`);
        if (uid < 1 || uid > MAX_UID) throw new ParseError(`${name} needs a UID from 1 to ${MAX_UID}`);
        if (name === 'UIDAFTER') return uid === MAX_UID ? NOTHING : { type: 'uidset', set: { saved: false, ranges: [{ start: uid + 1, end: MAX_UID }] } };
        return uid === 1 ? NOTHING : { type: 'uidset', set: { saved: false, ranges: [{ start: 1, end: uid - 1 }] } };
      }
      case 'MODSEQ':
        return this.modseq(r);
      case 'OLDER':
      case 'YOUNGER': {
        // RFC 5032 §3: ( "OLDER" / "YOUNGER" ) SP nz-number, an interval in seconds. 0 is taken
        // too ("now"): imapflow turns SINCE <a date not in the past> into YOUNGER 0.
        const seconds = r.number(`${name} interval`);
        if (seconds > 0xffffffff) throw new ParseError(`${name} interval out of range`);
        return { type: 'within', op: name === 'OLDER' ? 'older' : 'younger', seconds };
      }
      default:
        if (SEQUENCE_SET.test(name)) {
          const set = parseSequenceSet(t.value);
          if (this.uidOnly && !set.saved) throw ImapError.bad('Message sequence numbers are not used once UIDONLY is enabled; use UID <set>', 'UIDREQUIRED');
          return { type: 'seqset', set };
        }
        throw new ParseError(`Unknown search key ${t.value.slice(0, 40)}`);
    }
  }

  /** Keys side by side mean AND (RFC 3501 §6.4.4); a group needs at least one. */
  group(r: ArgReader, depth: number): SearchKey {
    if (depth > this.maxDepth) throw new ParseError('Search criteria nested too deeply');
    const keys: SearchKey[] = [];
    while (r.remaining > 0) keys.push(this.key(r, depth));
    if (keys.length === 0) throw new ParseError('Missing search criteria');
    return keys.length === 1 ? keys[0]! : { type: 'and', of: keys };
  }

  /**
   * RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer. The store keeps one
   * mod-sequence per message, so the entry name and type are checked and then ignored, as the RFC
   * tells such servers to do.
   */
  private modseq(r: ArgReader): SearchKey {
    if (r.peek()?.type === 'string') {
      const entry = r.string('entry name');
      if (!entry.startsWith('/flags/')) throw new ParseError('MODSEQ entry name must be /flags/<flag>');
      const type = r.atom('entry type').toUpperCase();
      if (type !== 'PRIV' && type !== 'SHARED' && type !== 'ALL') throw new ParseError('MODSEQ entry type must be priv, shared or all');
    }
    const min = r.number('mod-sequence');
    this.usesModseq = true;
    return { type: 'modseq', min };
  }
}

/**
 * RFC 9394 §4: partial-range-first = nz-number ":" nz-number, partial-range-last = MINUS nz-number
 * ":" MINUS nz-number; "500:400" is "400:500", "*" is not allowed.
 */
export function parsePartialRange(text: string): PartialRange {
  const m = /^(-?)([1-9]\d{0,9}):(-?)([1-9]\d{0,9})$/.exec(text);
  if (!m || m[1] !== m[3]) throw new ParseError('PARTIAL needs a range such as 1:100 or -1:-100');
  const a = Number(m[2]);
  const b = Number(m[4]);
  if (a > 0xffffffff || b > 0xffffffff) throw new ParseError('PARTIAL range out of range');
  return { from: Math.min(a, b), to: Math.max(a, b), fromEnd: m[1] === '-', text };
}

/**
 * RETURN (...) of SEARCH (RFC 4731, RFC 5182) and of SORT (RFC 5267 ESORT), with CONTEXT and UPDATE
 * (RFC 5267 §4) and PARTIAL (RFC 9394). One command takes one PARTIAL or one ALL, not both, and no
 * option twice where that would be ambiguous (RFC 5267 §4.4).
 */
export function parseReturnOptions(r: ArgReader): ReturnOptions {
  const opts: ReturnOptions = { min: false, max: false, all: false, count: false, save: false };
  const list = r.list('RETURN options');
  if (list.remaining === 0) {
    // RFC 4731 §3.1: an empty list means (ALL).
    opts.all = true;
    return opts;
  }
  while (list.remaining > 0) {
    const word = list.atom('RETURN option').toUpperCase();
    if (word === 'PARTIAL') {
      if (opts.partial || opts.all) throw new ParseError('Only one PARTIAL or ALL may be given (RFC 9394 §3.1)');
      opts.partial = parsePartialRange(list.atom('PARTIAL range'));
      continue;
    }
    const known = RETURN_NAMES.find((n) => n === word);
    if (!known) throw new ParseError(`Unknown RETURN option ${word.slice(0, 40)}`);
    const key = known.toLowerCase() as 'min' | 'max' | 'all' | 'count' | 'save' | 'context' | 'update';
    if (key === 'all' && (opts.all || opts.partial)) throw new ParseError('Only one PARTIAL or ALL may be given (RFC 5267 §4.4)');
    if (key === 'update' && opts.update) throw new ParseError('UPDATE given twice');
    opts[key] = true;
    // RFC 5465 §7, §8: modifier-update = "UPDATE" [ "(" fetch-att *(SP fetch-att) ")" ].
    if (key === 'update' && list.isList()) opts.updateFetch = parseFetchItems(list.next('UPDATE fetch attributes'));
  }
  return opts;
}

/** Search criteria (one or more keys) up to the end of the arguments. */
export function parseCriteria(r: ArgReader, env: ParseEnv): { key: SearchKey; usesModseq: boolean } {
  if (r.remaining === 0) throw new ParseError('Missing search criteria');
  const parser = new KeyParser(env.limits.maxNesting, env.enabled.has('UIDONLY'));
  const key = simplify(parser.group(r, 0));
  return { key, usesModseq: parser.usesModseq };
}

/** Removes nested ANDs and redundant ALLs so the store gets a flat, small tree. */
export function simplify(key: SearchKey): SearchKey {
  switch (key.type) {
    case 'and': {
      const of: SearchKey[] = [];
      for (const k of key.of.map(simplify)) {
        if (k.type === 'and') of.push(...k.of);
        else if (k.type !== 'all') of.push(k);
      }
      if (of.length === 0) return { type: 'all' };
      return of.length === 1 ? of[0]! : { type: 'and', of };
    }
    case 'or':
      return { type: 'or', of: [simplify(key.of[0]), simplify(key.of[1])] };
    case 'not':
      return { type: 'not', of: simplify(key.of) };
    default:
      return key;
  }
}

export function parseSearchArgs(tokens: Token[], env: ParseEnv): SearchArgs {
  const r = new ArgReader(tokens);
  let returnOptions: ReturnOptions | undefined;
  if (r.acceptAtom('RETURN')) returnOptions = parseReturnOptions(r);
  let charset: string | undefined;
  if (r.acceptAtom('CHARSET')) {
    charset = r.astring('charset').toUpperCase();
    // RFC 6855 §3: after ENABLE UTF8=ACCEPT a CHARSET label conflicts with the session's UTF-8.
    // UTF-8 itself cannot conflict, so only other labels are refused.
    if (env.enabled.has('UTF8=ACCEPT') && charset !== 'UTF-8') throw new ParseError('CHARSET not allowed after ENABLE UTF8=ACCEPT');
  }
  return { charset, returnOptions, ...parseCriteria(r, env) };
}

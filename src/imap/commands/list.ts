/**
 * LIST (RFC 3501 §6.3.8) with the RFC 5258 LIST-EXTENDED syntax: selection options before the
 * reference, several patterns in parentheses, and RETURN options — CHILDREN (RFC 3348), SUBSCRIBED,
 * SPECIAL-USE (RFC 6154) and STATUS (RFC 5819 LIST-STATUS).
 */
import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom } from '../wire/types.js';
import { decodeWireName, mailboxNameValue, userMail, utf8Names } from './mailbox-name.js';
import { readStatusItems, noteCondstoreEnabling, type StatusItem } from './status.js';
import { anyPattern, compilePattern } from '../list/pattern.js';
import { selectListEntries, type ListEntry } from '../list/select.js';
import type { MailboxInfo } from '../../store/types.js';
import { DRAIN_EVERY, encodeListEntries, writeListEntries } from '../list/respond.js';
import { keepListAnswer, keptListAnswer } from '../list/answer-memo.js';

export interface ListArgs {
  reference: string;
  patterns: string[];
  /** Any RFC 5258 syntax was used; then "" is no longer the delimiter request (§3). */
  extended: boolean;
  select: { subscribed: boolean; remote: boolean; recursiveMatch: boolean; specialUse: boolean };
  returns: { subscribed: boolean; children: boolean; specialUse: boolean; status?: StatusItem[] };
}

export const listCommand: CommandSpec<ListArgs> = {
  name: 'LIST',
  states: ['authenticated', 'selected'],
  capabilities: ['LIST-EXTENDED', 'LIST-STATUS', 'SPECIAL-USE', 'CHILDREN'],
  parse(args, env) {
    const r = new ArgReader(args);
    const out: ListArgs = {
      reference: '',
      patterns: [],
      extended: false,
      select: { subscribed: false, remote: false, recursiveMatch: false, specialUse: false },
      returns: { subscribed: false, children: false, specialUse: false },
    };
    if (r.peek()?.type === 'list') {
      out.extended = true;
      readSelectionOptions(r.list('selection options'), out.select);
    }
    out.reference = decodeWireName(r.bytes('reference name'), env.enabled, 'reference name');
    if (r.peek()?.type === 'list') {
      out.extended = true;
      const patterns = r.list('mailbox patterns');
      if (patterns.remaining === 0) throw new ParseError('Expected at least one mailbox pattern');
      while (patterns.remaining > 0) out.patterns.push(decodeWireName(patterns.bytes('mailbox pattern'), env.enabled, 'mailbox pattern'));
    } else {
      out.patterns.push(decodeWireName(r.bytes('mailbox pattern'), env.enabled, 'mailbox pattern'));
    }
    if (r.remaining > 0) {
      if (!r.acceptAtom('RETURN')) throw new ParseError('Expected RETURN');
      out.extended = true;
      readReturnOptions(r.list('return options'), out.returns);
    }
    r.end();
    return out;
  },
  async run(ctx, args) {
    const mail = userMail(ctx);
    const delimiter = ctx.server.store.delimiter;
    if (!args.extended && args.patterns.length === 1 && args.patterns[0] === '') {
      // §6.3.8: the delimiter and the root of the reference. Names here are never rooted (no
      // break-out characters), so the root is "" whatever the reference.
      ctx.untagged(atom('LIST'), [atom('\\Noselect')], delimiter === '' ? null : delimiter, mailboxNameValue('', ctx.enabled));
      return { text: 'LIST completed' };
    }
    // RFC 5258 §3: in an extended LIST an empty pattern matches nothing and is ignored.
    const wanted = args.patterns.filter((p) => p !== '');
    if (wanted.length === 0) return { text: 'LIST completed' };
    const mode = args.extended || ctx.enabled.has('IMAP4REV2') ? 'extended' : 'list';
    const memoKey = plainListKey(args, wanted, mode, utf8Names(ctx.enabled));
    if (memoKey === null) {
      if (args.returns.status) noteCondstoreEnabling(ctx, args.returns.status);
      const wantSubscriptions = args.select.subscribed || args.returns.subscribed;
      const [mailboxes, subscriptions] = await Promise.all([mail.list(), wantSubscriptions ? mail.subscriptions() : []]);
      const entries = selectEntries(args, wanted, delimiter, mode, mailboxes, subscriptions);
      await writeListEntries(ctx, mail, entries, { response: 'LIST', delimiter, status: args.returns.status });
      return { text: 'LIST completed' };
    }
    // A plain LIST: its answer depends on the tree alone, and the same tree answers from memory.
    const mailboxes = await mail.list();
    const kept = keptListAnswer(mailboxes, memoKey);
    if (kept) {
      ctx.untaggedLines([kept]);
      return { text: 'LIST completed' };
    }
    const entries = selectEntries(args, wanted, delimiter, mode, mailboxes, []);
    const bytes = entries.length <= DRAIN_EVERY ? encodeListEntries(entries, { response: 'LIST', delimiter }, ctx.enabled) : undefined;
    if (!bytes) {
      await writeListEntries(ctx, mail, entries, { response: 'LIST', delimiter });
      return { text: 'LIST completed' };
    }
    keepListAnswer(mailboxes, memoKey, bytes);
    ctx.untaggedLines([bytes]);
    return { text: 'LIST completed' };
  },
};

function selectEntries(args: ListArgs, wanted: string[], delimiter: string, mode: 'list' | 'extended', mailboxes: readonly MailboxInfo[], subscriptions: readonly string[]): ListEntry[] {
  return selectListEntries({
    mailboxes,
    subscriptions,
    delimiter,
    matches: anyPattern(wanted.map((p) => compilePattern(args.reference, p, delimiter))),
    selection: {
      mode,
      subscribed: args.select.subscribed,
      specialUse: args.select.specialUse,
      recursiveMatch: args.select.recursiveMatch,
      returnSubscribed: args.returns.subscribed,
    },
  });
}

/**
 * What a LIST's answer depends on besides the tree, when nothing else does (answer-memo.ts): no
 * selection option that needs subscriptions or special uses, no SUBSCRIBED or STATUS to return
 * (CHILDREN, SPECIAL-USE and REMOTE change nothing here). Null for any other LIST.
 */
function plainListKey(args: ListArgs, wanted: string[], mode: string, utf8: boolean): string | null {
  const { select, returns } = args;
  if (select.subscribed || select.specialUse || select.recursiveMatch || returns.subscribed || returns.status) return null;
  // JSON: a pattern or reference may hold any character, NUL too (mUTF-7 `&AAA-`), so joining with
  // a separator could make two LISTs one key (review).
  return JSON.stringify([mode, utf8, args.reference, wanted]);
}

/** RFC 5258 §3.1 and RFC 6154 §2; unknown options are BAD (§3: "MUST respond ... with a BAD"). */
function readSelectionOptions(r: ArgReader, select: ListArgs['select']): void {
  while (r.remaining > 0) {
    const option = r.atom('selection option').toUpperCase();
    switch (option) {
      case 'SUBSCRIBED':
        select.subscribed = true;
        break;
      case 'REMOTE':
        // No remote mailboxes exist here, so listing them too changes nothing.
        select.remote = true;
        break;
      case 'RECURSIVEMATCH':
        select.recursiveMatch = true;
        break;
      case 'SPECIAL-USE':
        select.specialUse = true;
        break;
      default:
        throw new ParseError(`Unknown LIST selection option ${option}`);
    }
  }
  // §3.1: RECURSIVEMATCH alone (or with REMOTE only) is a BAD request.
  if (select.recursiveMatch && !select.subscribed && !select.specialUse) {
    throw new ParseError('RECURSIVEMATCH needs another selection option');
  }
}

/** RFC 5258 §3.2, RFC 6154 §2, RFC 5819 §4. */
function readReturnOptions(r: ArgReader, returns: ListArgs['returns']): void {
  while (r.remaining > 0) {
    const option = r.atom('return option').toUpperCase();
    switch (option) {
      case 'SUBSCRIBED':
        returns.subscribed = true;
        break;
      case 'CHILDREN':
        // \HasChildren/\HasNoChildren are always sent (RFC 3348 allows it), so nothing changes.
        returns.children = true;
        break;
      case 'SPECIAL-USE':
        // Special-use attributes are always sent (RFC 6154 §2 allows it on any LIST).
        returns.specialUse = true;
        break;
      case 'STATUS':
        if (returns.status) throw new ParseError('STATUS given twice');
        returns.status = readStatusItems(r);
        break;
      default:
        throw new ParseError(`Unknown LIST return option ${option}`);
    }
  }
}

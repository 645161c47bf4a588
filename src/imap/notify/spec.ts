/**
 * The NOTIFY command's arguments (RFC 5465 §8) and the checks of §5 that answer BAD or NO before
 * anything changes. Storage-free: what a filter means for a given mailbox is decided here too.
 */
import { ArgReader, ParseError } from '../wire/args.js';
import type { Token } from '../wire/types.js';
import { parseFetchItems, type FetchItem } from '../fetch/items.js';
import { ImapError } from '../errors.js';
import { mailboxNameFrom, normalizeInbox } from '../commands/mailbox-name.js';

/** The events Postroom reports; anything else is refused with NO [BADEVENT (these)] (§3.1). */
export const SUPPORTED_EVENTS = [
  'MessageNew',
  'MessageExpunge',
  'FlagChange',
  'MailboxName',
  'SubscriptionChange',
  // RFC 5465 §5.6/§5.7: REQUIRED with METADATA; refused (BADEVENT) when the store keeps no annotations.
  'MailboxMetadataChange',
  'ServerMetadataChange',
] as const;
export type NotifyEvent = (typeof SUPPORTED_EVENTS)[number];

/** The events that need the store's annotations (UserMailbox.getMetadata). */
export const METADATA_EVENTS: readonly NotifyEvent[] = ['MailboxMetadataChange', 'ServerMetadataChange'];

/** Events known to RFC 5465 that need ANNOTATE, which this server does not have. */
const KNOWN_UNSUPPORTED = ['AnnotationChange'];
const MESSAGE_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange'];

export type MailboxFilter =
  | { kind: 'inboxes' }
  | { kind: 'personal' }
  | { kind: 'subscribed' }
  | { kind: 'subtree'; names: string[] }
  | { kind: 'mailboxes'; names: string[] };

export interface EventGroup {
  filter: MailboxFilter;
  events: ReadonlySet<NotifyEvent>;
}

export interface NotifySpec {
  /** STATUS indicator: a STATUS for each watched mailbox before the tagged OK. */
  status: boolean;
  /** The SELECTED / SELECTED-DELAYED group; absent means SELECTED NONE (§3.1). */
  selected?: { delayed: boolean; events: ReadonlySet<NotifyEvent>; fetch: FetchItem[] };
  others: EventGroup[];
}

export type NotifyArgs = { kind: 'none' } | { kind: 'set'; spec: NotifySpec; unsupported: string[] };

/** Case-insensitive event name → its canonical spelling, or the name as written when unknown. */
function canonicalEvent(name: string): string {
  const all = [...SUPPORTED_EVENTS, ...KNOWN_UNSUPPORTED];
  return all.find((e) => e.toLowerCase() === name.toLowerCase()) ?? name;
}

export interface NotifyParseEnv {
  enabled: ReadonlySet<string>;
  delimiter: string;
  /** maxNotifyMailboxNames: names given with SUBTREE and MAILBOXES together. */
  maxNames: number;
}

export function parseNotify(args: Token[], env: NotifyParseEnv): NotifyArgs {
  const r = new ArgReader(args);
  const verb = r.atom('SET or NONE').toUpperCase();
  if (verb === 'NONE') {
    r.end();
    return { kind: 'none' };
  }
  if (verb !== 'SET') throw new ParseError('Expected SET or NONE');
  const status = r.acceptAtom('STATUS');
  if (r.remaining === 0) throw new ParseError('Expected at least one event group');
  const spec: NotifySpec = { status, others: [] };
  const unsupported = new Set<string>();
  let names = 0;
  while (r.remaining > 0) {
    const group = r.list('event group');
    const selector = group.atom('mailbox filter').toUpperCase();
    let filter: MailboxFilter | 'selected' | 'selected-delayed';
    switch (selector) {
      case 'SELECTED':
      case 'SELECTED-DELAYED':
        if (spec.selected) throw new ParseError('Only one of SELECTED and SELECTED-DELAYED may be given (RFC 5465 §6.1)');
        filter = selector === 'SELECTED' ? 'selected' : 'selected-delayed';
        break;
      case 'INBOXES':
      case 'PERSONAL':
      case 'SUBSCRIBED':
        filter = { kind: selector.toLowerCase() as 'inboxes' | 'personal' | 'subscribed' };
        break;
      case 'SUBTREE':
      case 'MAILBOXES': {
        const list = readNames(group, env);
        names += list.length;
        if (names > env.maxNames) {
          throw ImapError.no(`NOTIFY names at most ${env.maxNames} mailboxes (maxNotifyMailboxNames); use SUBTREE or PERSONAL`, 'NOTIFICATIONOVERFLOW');
        }
        filter = { kind: selector === 'SUBTREE' ? 'subtree' : 'mailboxes', names: list };
        break;
      }
      default:
        throw new ParseError(`Unknown mailbox filter ${selector.slice(0, 40)}`);
    }
    const events = new Set<NotifyEvent>();
    let fetch: FetchItem[] = [];
    const seen = new Set<string>();
    const none = group.remaining === 1 && group.acceptAtom('NONE');
    if (!none) {
      // RFC 5465's own §3.1 example leaves the events unparenthesised; its ABNF (§8) has them in a
      // list. Both are read.
      const list = group.isList() ? group.list('events') : group;
      if (list.remaining === 0) throw new ParseError('Empty event list');
      while (list.remaining > 0) {
        const name = canonicalEvent(list.atom('event'));
        seen.add(name);
        if (name === 'MessageNew' && list.isList()) {
          if (typeof filter !== 'string') throw new ParseError('FETCH attributes of MessageNew are for SELECTED only (RFC 5465 §8)');
          fetch = parseFetchItems(list.next('fetch attributes'));
        }
        if ((SUPPORTED_EVENTS as readonly string[]).includes(name)) events.add(name as NotifyEvent);
        else unsupported.add(name);
      }
    }
    group.end();
    // §5: MessageNew and MessageExpunge together; FlagChange/AnnotationChange only with both.
    if (seen.has('MessageNew') !== seen.has('MessageExpunge')) throw new ParseError('MessageNew and MessageExpunge must be given together (RFC 5465 §5)');
    if ((seen.has('FlagChange') || seen.has('AnnotationChange')) && !seen.has('MessageNew')) {
      throw new ParseError('FlagChange and AnnotationChange need MessageNew and MessageExpunge (RFC 5465 §5)');
    }
    if (typeof filter === 'string') {
      // §6.1: only message events with SELECTED / SELECTED-DELAYED.
      for (const name of seen) if (!MESSAGE_EVENTS.includes(name)) throw new ParseError(`${name} cannot be asked for the selected mailbox (RFC 5465 §6.1)`);
      spec.selected = { delayed: filter === 'selected-delayed', events, fetch };
    } else {
      spec.others.push({ filter, events });
    }
  }
  return { kind: 'set', spec, unsupported: [...unsupported] };
}

function readNames(group: ArgReader, env: NotifyParseEnv): string[] {
  const one = (r: ArgReader): string => normalizeInbox(mailboxNameFrom(r.bytes('mailbox name'), env.enabled), env.delimiter);
  if (!group.isList()) return [one(group)];
  const list = group.list('mailbox names');
  if (list.remaining === 0) throw new ParseError('Empty mailbox list');
  const out: string[] = [];
  while (list.remaining > 0) out.push(one(list));
  return out;
}

/** Whether a filter takes in a personal mailbox, given whether it is subscribed. */
export function filterMatches(filter: MailboxFilter, name: string, subscribed: boolean, delimiter: string, shared = false): boolean {
  switch (filter.kind) {
    case 'inboxes':
    // §6.3: Postroom delivers (LMTP, Sieve fileinto) to any personal mailbox, so INBOXES is PERSONAL.
    case 'personal':
      // §6.2: the personal namespace only, never another user's mailbox.
      return !shared;
    case 'subscribed':
      return subscribed;
    case 'subtree':
      return filter.names.some((root) => name === root || (delimiter !== '' && name.startsWith(root + delimiter)));
    case 'mailboxes':
      return filter.names.includes(name);
  }
}

/** True when some group asks for ServerMetadataChange (a user event: no mailbox filter applies, §8). */
export function wantsServerMetadata(spec: NotifySpec): boolean {
  return spec.others.some((g) => g.events.has('ServerMetadataChange'));
}

/** The events asked for a mailbox other than the selected one: the union over matching groups. */
export function eventsFor(spec: NotifySpec, name: string, subscribed: boolean, delimiter: string, shared = false): Set<NotifyEvent> {
  const out = new Set<NotifyEvent>();
  for (const g of spec.others) if (filterMatches(g.filter, name, subscribed, delimiter, shared)) for (const e of g.events) out.add(e);
  return out;
}

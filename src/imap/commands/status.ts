/**
 * STATUS (RFC 3501 §6.3.10): counters of a mailbox other than the selected one, without selecting
 * it and without touching \Recent. The item reader and the response builder are shared with LIST's
 * STATUS return option (RFC 5819).
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, type ImapValue } from '../wire/types.js';
import { ImapError } from '../errors.js';
import type { MailboxInfo, UserMailbox } from '../../store/types.js';
import { enableCondstore } from '../search/condstore.js';
import { mailboxObjectId } from '../../store/object-ids.js';
import { mailboxNameValue, normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';

/**
 * Items in the order they are reported (RFC 3501's own example answers "(UIDNEXT MESSAGES)" with
 * "(MESSAGES 231 UIDNEXT 44292)"), whatever order the client asked in.
 */
export const STATUS_ITEMS = [
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED', // RFC 9051 §6.3.11
  'SIZE', // RFC 8438
  'DELETED-STORAGE', // RFC 9208 §4.1.4
  'HIGHESTMODSEQ', // RFC 7162 §3.1.7
  'APPENDLIMIT', // RFC 7889 §3.1
  'MAILBOXID', // RFC 8474 §4.3
] as const;

export type StatusItem = (typeof STATUS_ITEMS)[number];

/** Reads `"(" status-att *(SP status-att) ")"`; duplicates collapse, unknown items are BAD. */
export function readStatusItems(r: ArgReader): StatusItem[] {
  const list = r.list('status items');
  if (list.remaining === 0) throw new ParseError('Expected at least one status item');
  const wanted = new Set<StatusItem>();
  while (list.remaining > 0) {
    const name = list.atom('status item').toUpperCase();
    if (!(STATUS_ITEMS as readonly string[]).includes(name)) throw new ParseError(`Unknown status item ${name}`);
    wanted.add(name as StatusItem);
  }
  return STATUS_ITEMS.filter((item) => wanted.has(item));
}

/** The parenthesised list of a STATUS response, e.g. (MESSAGES 2 UIDNEXT 5). */
export async function statusValues(
  ctx: CommandContext,
  mail: UserMailbox,
  mailbox: MailboxInfo,
  items: readonly StatusItem[],
): Promise<ImapValue[]> {
  const status = await mail.status(mailbox.id);
  const out: ImapValue[] = [];
  for (const item of items) {
    out.push(atom(item));
    switch (item) {
      case 'MESSAGES':
        out.push(status.messages);
        break;
      case 'RECENT':
        out.push(status.recent);
        break;
      case 'UIDNEXT':
        out.push(status.uidNext);
        break;
      case 'UIDVALIDITY':
        out.push(status.uidValidity);
        break;
      case 'UNSEEN':
        out.push(status.unseen);
        break;
      case 'DELETED':
        out.push((await mail.search(mailbox.id, { type: 'flag', flag: '\\Deleted', set: true })).length);
        break;
      case 'SIZE':
        out.push(status.size);
        break;
      case 'DELETED-STORAGE': {
        // RFC 9208 §4.1.4: what an EXPUNGE would free, in the same units as STATUS SIZE (octets).
        const uids = await mail.search(mailbox.id, { type: 'flag', flag: '\\Deleted', set: true });
        const records = uids.length > 0 ? await mail.records(mailbox.id, uids) : [];
        out.push(records.reduce((n, r) => n + r.size, 0));
        break;
      }
      case 'HIGHESTMODSEQ':
        out.push(status.highestModseq);
        break;
      case 'APPENDLIMIT':
        out.push(ctx.server.limits.maxMessageSize);
        break;
      case 'MAILBOXID':
        out.push([atom(mailboxObjectId(mailbox.id, status.uidValidity))]);
        break;
    }
  }
  return out;
}

/** RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is a CONDSTORE enabling command. */
export function noteCondstoreEnabling(ctx: CommandContext, items: readonly StatusItem[]): void {
  if (!items.includes('HIGHESTMODSEQ')) return;
  enableCondstore(ctx, ctx.state.kind === 'selected' ? ctx.state.view : undefined);
}

export interface StatusArgs {
  name: string;
  items: StatusItem[];
}

export const statusCommand: CommandSpec<StatusArgs> = {
  name: 'STATUS',
  states: ['authenticated', 'selected'],
  capabilities: ['STATUS=SIZE'],
  parse(args, env) {
    const r = new ArgReader(args);
    const name = readMailboxName(r, env.enabled);
    const items = readStatusItems(r);
    r.end();
    return { name, items };
  },
  async run(ctx, args) {
    const mail = userMail(ctx);
    const mailbox = await mail.get(normalizeInbox(args.name, ctx.server.store.delimiter));
    // RFC 3501 §6.3.10 gives no status for a name that holds no messages.
    if (mailbox.noselect) throw ImapError.no(`${mailbox.name} is not a selectable mailbox`, 'NONEXISTENT');
    noteCondstoreEnabling(ctx, args.items);
    const values = await statusValues(ctx, mail, mailbox, args.items);
    ctx.untagged(atom('STATUS'), mailboxNameValue(mailbox.name, ctx.enabled), values);
    return { text: 'STATUS completed' };
  },
};

/**
 * CREATE (RFC 3501 §6.3.3), with the RFC 6154 §3 USE parameter (CREATE-SPECIAL-USE) in the
 * RFC 4466 §2.2 create-params syntax.
 */
import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import type { SpecialUse } from '../../store/types.js';
import { checkNewName, normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';
import { checkMailboxCount } from './mail-limits.js';
import { atom } from '../wire/types.js';
import { mailboxObjectId } from '../../store/object-ids.js';

const SPECIAL_USES: readonly SpecialUse[] = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash', '\\Important'];

export interface CreateArgs {
  name: string;
  /** Special-use attributes from `(USE (...))`, as the client spelled them. */
  use?: string[];
}

export const createCommand: CommandSpec<CreateArgs> = {
  name: 'CREATE',
  states: ['authenticated', 'selected'],
  capabilities: ['CREATE-SPECIAL-USE'],
  parse(args, env) {
    const r = new ArgReader(args);
    const name = readMailboxName(r, env.enabled);
    let use: string[] | undefined;
    if (r.remaining > 0) {
      const params = r.list('CREATE parameters');
      while (params.remaining > 0) {
        const param = params.atom('CREATE parameter').toUpperCase();
        if (param !== 'USE') throw new ParseError(`Unknown CREATE parameter ${param}`);
        if (use) throw new ParseError('USE given twice');
        const attrs = params.list('special-use attributes');
        use = [];
        while (attrs.remaining > 0) use.push(attrs.atom('special-use attribute'));
      }
    }
    r.end();
    return use ? { name, use } : { name };
  },
  async run(ctx, args) {
    const mail = userMail(ctx);
    const delimiter = ctx.server.store.delimiter;
    let name = args.name;
    // §6.3.3: a trailing delimiter only declares the intent to create children; the name created
    // is the one without it.
    if (delimiter && name.endsWith(delimiter)) name = name.slice(0, -delimiter.length);
    name = normalizeInbox(name, delimiter);
    if (name === 'INBOX') throw ImapError.no('INBOX always exists', 'ALREADYEXISTS');
    checkNewName(name);
    const specialUse = pickSpecialUse(args.use ?? []);
    await checkMailboxCount(ctx, mail, name);
    // The check above answers early; the store counts again inside its write, where parallel
    // CREATEs of the same user cannot both pass.
    const maxMailboxes = ctx.server.limits.maxMailboxesPerUser;
    const created = await mail.create(name, specialUse ? { specialUse, maxMailboxes } : { maxMailboxes });
    // RFC 8474 §4.1: with OBJECTID, every successful CREATE names the new mailbox's MAILBOXID.
    if (!ctx.server.store.messageExtras) return { text: 'CREATE completed' };
    const { uidValidity } = await mail.status(created.id);
    return { code: { name: 'MAILBOXID', args: [[atom(mailboxObjectId(created.id, uidValidity))]] }, text: 'CREATE completed' };
  },
};

/** The store keeps one special use per mailbox; RFC 6154 §3 says to refuse with USEATTR otherwise. */
function pickSpecialUse(use: readonly string[]): SpecialUse | undefined {
  if (use.length === 0) return undefined;
  if (use.length > 1) throw ImapError.no('Only one special use per mailbox is supported', 'USEATTR');
  const wanted = (use[0] as string).toLowerCase();
  const found = SPECIAL_USES.find((s) => s.toLowerCase() === wanted);
  if (!found) throw ImapError.no(`${use[0]} is not a supported special use`, 'USEATTR');
  return found;
}

/**
 * RENAME (RFC 3501 §6.3.5). Children move along and missing parents of the new name are created
 * (by the store); renaming INBOX moves its messages to the new mailbox and leaves INBOX empty.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { checkNewName, normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';
import { checkMailboxCount } from './mail-limits.js';

export interface RenameArgs {
  from: string;
  to: string;
}

export const renameCommand: CommandSpec<RenameArgs> = {
  name: 'RENAME',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args);
    const from = readMailboxName(r, env.enabled, 'existing mailbox name');
    const to = readMailboxName(r, env.enabled, 'new mailbox name');
    r.end();
    return { from, to };
  },
  async run(ctx, args) {
    const delimiter = ctx.server.store.delimiter;
    const from = normalizeInbox(args.from, delimiter);
    const to = normalizeInbox(args.to, delimiter);
    if (to === 'INBOX') throw ImapError.no('INBOX already exists', 'ALREADYEXISTS');
    checkNewName(to);
    const mail = userMail(ctx);
    // Missing parents of the new name are created; renaming INBOX leaves an empty INBOX behind.
    await checkMailboxCount(ctx, mail, to, { renamed: true, extra: from === 'INBOX' ? 1 : 0 });
    // The store counts again inside its write, where parallel CREATEs and RENAMEs cannot both pass.
    await mail.rename(from, to, { maxMailboxes: ctx.server.limits.maxMailboxesPerUser });
    return { text: 'RENAME completed' };
  },
};

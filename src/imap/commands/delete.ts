/**
 * DELETE (RFC 3501 §6.3.4). The store owns the rules (INBOX cannot go; a mailbox with children
 * becomes \Noselect; a \Noselect one with children cannot be deleted) and says so with typed errors.
 * Deleting the selected mailbox is allowed: the session hears about it through the change feed.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';

export interface DeleteArgs {
  name: string;
}

export const deleteCommand: CommandSpec<DeleteArgs> = {
  name: 'DELETE',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args);
    const name = readMailboxName(r, env.enabled);
    r.end();
    return { name };
  },
  async run(ctx, args) {
    await userMail(ctx).delete(normalizeInbox(args.name, ctx.server.store.delimiter));
    return { text: 'DELETE completed' };
  },
};

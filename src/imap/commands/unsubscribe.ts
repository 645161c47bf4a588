/**
 * UNSUBSCRIBE (RFC 3501 §6.3.7). Removing a name that is not subscribed succeeds, as RFC 9051
 * §6.3.8 spells out, so a client cleaning up never gets a spurious NO.
 */
import type { CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { normalizeInbox, userMail } from './mailbox-name.js';
import { parseSubscribeArgs, type SubscribeArgs } from './subscribe.js';

export const unsubscribeCommand: CommandSpec<SubscribeArgs> = {
  name: 'UNSUBSCRIBE',
  states: ['authenticated', 'selected'],
  parse: (args, env) => parseSubscribeArgs(args, env.enabled),
  async run(ctx, args) {
    if (args.name === '') throw ImapError.no('Mailbox name may not be empty', 'CANNOT');
    await userMail(ctx).subscribe(normalizeInbox(args.name, ctx.server.store.delimiter), false);
    return { text: 'UNSUBSCRIBE completed' };
  },
};

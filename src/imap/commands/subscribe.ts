/**
 * SUBSCRIBE (RFC 3501 §6.3.6). The name need not exist (the RFC lets a server check, and clients
 * subscribe to names that come and go); it is stored canonical so LSUB finds it again.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';

export interface SubscribeArgs {
  name: string;
}

export function parseSubscribeArgs(args: Parameters<CommandSpec['parse']>[0], enabled: ReadonlySet<string>): SubscribeArgs {
  const r = new ArgReader(args);
  const name = readMailboxName(r, enabled);
  r.end();
  return { name };
}

export const subscribeCommand: CommandSpec<SubscribeArgs> = {
  name: 'SUBSCRIBE',
  states: ['authenticated', 'selected'],
  parse: (args, env) => parseSubscribeArgs(args, env.enabled),
  async run(ctx, args) {
    if (args.name === '') throw ImapError.no('Mailbox name may not be empty', 'CANNOT');
    await userMail(ctx).subscribe(normalizeInbox(args.name, ctx.server.store.delimiter), true);
    return { text: 'SUBSCRIBE completed' };
  },
};

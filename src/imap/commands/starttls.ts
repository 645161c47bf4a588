import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';

/** RFC 3501 §6.2.1; the upgrade itself happens after the tagged OK (see connection.ts). */
export const starttlsCommand: CommandSpec<void> = {
  name: 'STARTTLS',
  states: ['notAuthenticated'],
  capabilities: [],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    if (ctx.connection.secure) throw ImapError.bad('Connection is already encrypted');
    if (!ctx.connection.canStartTls) throw ImapError.no('TLS is not configured on this server');
    await ctx.startTls();
    return { text: 'Begin TLS negotiation now' };
  },
};

import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';

/** RFC 2177: updates are pushed while idling; the client ends it with DONE. */
export const idleCommand: CommandSpec<void> = {
  name: 'IDLE',
  states: ['authenticated', 'selected'],
  capabilities: ['IDLE'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    const line = await ctx.idle('idling');
    if (line === null) return { text: 'IDLE terminated' };
    if (line.trim().toUpperCase() !== 'DONE') throw ImapError.bad('Expected DONE to end IDLE');
    return { text: 'IDLE terminated' };
  },
};

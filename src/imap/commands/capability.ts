import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';

/** RFC 3501 §6.1.1 */
export const capabilityCommand: CommandSpec<void> = {
  name: 'CAPABILITY',
  states: ['notAuthenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    ctx.untagged(atom('CAPABILITY'), ...ctx.server.capabilities(ctx.connection, ctx.state.kind).map(atom));
  },
};

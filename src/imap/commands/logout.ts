import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';

/** RFC 3501 §6.1.3 */
export const logoutCommand: CommandSpec<void> = {
  name: 'LOGOUT',
  states: ['notAuthenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    ctx.untaggedStatus('BYE', 'Postroom logging out');
    ctx.close();
  },
};

import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';

/** RFC 3501 §6.2.3; TLS policy, delays and lockouts live in ctx.login(). */
export const loginCommand: CommandSpec<{ username: string; password: string }> = {
  name: 'LOGIN',
  states: ['notAuthenticated'],
  sensitive: true,
  parse(args) {
    const r = new ArgReader(args);
    const username = r.astring('user name');
    const password = r.astring('password');
    r.end();
    return { username, password };
  },
  async run(ctx, args) {
    await ctx.login({ username: args.username, password: args.password, mechanism: 'LOGIN' });
    return { code: { name: 'CAPABILITY', args: ctx.server.capabilities(ctx.connection, 'authenticated').map(atom) }, text: 'Logged in' };
  },
};

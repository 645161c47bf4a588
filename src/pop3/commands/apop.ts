/**
 * RFC 1939 §7 APOP name digest: MD5 of the greeting's timestamp and the shared secret, so the
 * secret never crosses the wire. The timestamp is fresh for every connection, so a digest cannot
 * be replayed on another one.
 */
import type { Pop3Command } from './types.js';
import { CommandSyntaxError } from '../wire/command-line.js';
import { Pop3Error } from '../errors.js';
import { completeLogin, refuseLogin } from '../session/login.js';

export const apopCommand: Pop3Command<{ user: string; digest: string }> = {
  name: 'APOP',
  states: ['authorization'],
  sensitive: true,
  parse(line) {
    if (line.args.length !== 2) throw new CommandSyntaxError('APOP takes a name and a digest');
    const digest = line.args[1];
    if (!/^[0-9a-fA-F]{32}$/.test(digest)) throw new CommandSyntaxError('APOP digest must be 32 hexadecimal digits');
    return { user: line.args[0], digest: digest.toLowerCase() };
  },
  async run(ctx, { user, digest }) {
    const check = ctx.services.auth.apop;
    if (!check || !ctx.timestamp) throw new Pop3Error('APOP is not available on this server');
    ctx.setState({ name: 'authorization' });
    const granted = await check(user, digest, ctx.timestamp);
    if (granted === null) return refuseLogin(ctx, 'Invalid user name or digest');
    return completeLogin(ctx, granted);
  },
};

/** RFC 1939 §7 PASS string: the password for the name given by USER. */
import type { Pop3Command } from './types.js';
import { CommandSyntaxError } from '../wire/command-line.js';
import { Pop3Error } from '../errors.js';
import { completeLogin, plaintextAllowed, refuseLogin } from '../session/login.js';

export const passCommand: Pop3Command<string> = {
  name: 'PASS',
  states: ['authorization'],
  sensitive: true,
  parse(line) {
    // §7: spaces may be part of the password, so it is the rest of the line as sent.
    if (line.rest.length === 0) throw new CommandSyntaxError('PASS needs a password');
    return line.rest;
  },
  async run(ctx, password) {
    const state = ctx.state;
    if (state.name !== 'authorization' || state.pendingUser === undefined) throw new Pop3Error('Send USER first');
    if (!plaintextAllowed(ctx)) throw new Pop3Error('Plain-text authentication is not allowed without TLS, use STLS', 'AUTH');
    const username = state.pendingUser;
    // §7: a failed PASS returns to the state before USER.
    ctx.setState({ name: 'authorization' });
    const result = await ctx.services.auth.authenticator.authenticate({
      username,
      password,
      mechanism: 'USER',
      remoteAddress: ctx.connection.remoteAddress,
      secure: ctx.connection.secure,
      protocol: 'pop3',
    });
    if (!result) return refuseLogin(ctx, 'Invalid user name or password');
    return completeLogin(ctx, result.user);
  },
};

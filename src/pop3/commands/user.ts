/** RFC 1939 §7 USER name: the first half of a clear-text login. */
import type { Pop3Command } from './types.js';
import { CommandSyntaxError } from '../wire/command-line.js';
import { Pop3Error } from '../errors.js';
import { plaintextAllowed } from '../session/login.js';

export const userCommand: Pop3Command<string> = {
  name: 'USER',
  states: ['authorization'],
  parse(line) {
    const name = line.rest.trim();
    if (name.length === 0) throw new CommandSyntaxError('USER needs a name');
    return name;
  },
  async run(ctx, name) {
    if (!plaintextAllowed(ctx)) {
      // RFC 2595 §2.2; answered at USER so the client never sends the password in the clear.
      throw new Pop3Error('Plain-text authentication is not allowed without TLS, use STLS', 'AUTH');
    }
    if (ctx.state.name === 'authorization') ctx.setState({ name: 'authorization', pendingUser: name });
    return { text: 'Send PASS' };
  },
};

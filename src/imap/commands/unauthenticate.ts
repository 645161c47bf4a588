/**
 * UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the same connection, so that
 * a client (a webmail or proxy pool) can log in as another user without a new TLS handshake.
 * Everything of the session but TLS is reset (§3, §4.1): the selected mailbox is released without
 * expunging, the user's store handle, change-feed subscription and per-user connection slot are
 * given back, and every ENABLEd extension (CONDSTORE, QRESYNC, UTF8=ACCEPT…) is off again. A NO is
 * not permitted (§3), so the only answers are OK, or BAD in the not-authenticated state.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';

export const unauthenticateCommand: CommandSpec<void> = {
  name: 'UNAUTHENTICATE',
  states: ['authenticated', 'selected'],
  capabilities: ['UNAUTHENTICATE'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    ctx.unauthenticate();
  },
};

/**
 * UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the same connection, so that
 * a client (a webmail or proxy pool) can log in as another user without a new TLS handshake.
 * Everything of the session but TLS is reset (§3, §4.1): the selected mailbox is released without
 * expunging, the user's store handle, change-feed subscription and per-user connection slot are
 * given back, and every ENABLEd extension (CONDSTORE, QRESYNC, UTF8=ACCEPT…) is off again. A NO is
 * not permitted (§3), so the only answers are OK, or BAD in the not-authenticated state. With
 * COMPRESS active the OK comes with a BYE (below).
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
    if (ctx.connection.compressed) {
      // §4.1 wants the compression layer ended after this OK and the client's after its CRLF,
      // the connection going on uncompressed. The deflate transport is not taken off a socket
      // (bytes the client sent after the command may already be in the inflater), so the session
      // ends instead, with the OK RFC 8437 §3 asks for: the client reconnects to log in again.
      ctx.untaggedStatus('BYE', 'UNAUTHENTICATE under COMPRESS ends the connection; connect again to log in');
      ctx.close();
      return;
    }
    ctx.unauthenticate();
  },
};

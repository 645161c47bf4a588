/**
 * RFC 2595 §4 STLS: switch this connection to TLS. The session discards anything the client sent
 * after the command before the handshake, so nothing injected in clear text is run under TLS.
 */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';
import { Pop3Error } from '../errors.js';

export const stlsCommand: Pop3Command<void> = {
  name: 'STLS',
  states: ['authorization'],
  parse: noArguments,
  async run(ctx) {
    if (!ctx.services.tlsContext) throw new Pop3Error('TLS is not configured on this server');
    if (ctx.connection.secure) throw new Pop3Error('Command not permitted when TLS active');
    // §4: after TLS the client starts over, and so does the server — a pending USER is forgotten.
    ctx.setState({ name: 'authorization' });
    return { text: 'Begin TLS negotiation', then: 'starttls' };
  },
};

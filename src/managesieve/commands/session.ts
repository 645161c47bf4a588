/** CAPABILITY, NOOP, LOGOUT, STARTTLS, UNAUTHENTICATE (RFC 5804 §2.2–2.4, 2.11, 2.14.1). */
import { capabilityLines } from '../capabilities.js';
import { encodeString } from '../wire/encode.js';
import { ManageSieveError, type ManageSieveCommand } from '../types.js';

export const capabilityCommand: ManageSieveCommand = {
  name: 'CAPABILITY',
  state: 'any',
  async run(ctx, args) {
    args.end();
    return { lines: capabilityLines(ctx), status: 'OK', text: 'Capability completed' };
  },
};

export const noopCommand: ManageSieveCommand = {
  name: 'NOOP',
  state: 'any',
  async run(_ctx, args) {
    // §2.11: a tag given is echoed in the TAG response code.
    const tag = args.optionalString('tag');
    args.end();
    return tag === undefined ? { status: 'OK', text: 'Done' } : { status: 'OK', code: `TAG ${encodeString(tag)}`, text: 'Done' };
  },
};

export const logoutCommand: ManageSieveCommand = {
  name: 'LOGOUT',
  state: 'any',
  async run(_ctx, args) {
    args.end();
    return { status: 'OK', text: 'Logout completed', after: 'close' };
  },
};

export const starttlsCommand: ManageSieveCommand = {
  name: 'STARTTLS',
  state: 'nonauth',
  async run(ctx, args) {
    args.end();
    if (!ctx.services.tlsContext) throw new ManageSieveError('TLS is not configured');
    if (ctx.secure) throw new ManageSieveError('TLS is already active');
    return { status: 'OK', text: 'Begin TLS negotiation now', after: 'starttls' };
  },
};

export const unauthenticateCommand: ManageSieveCommand = {
  name: 'UNAUTHENTICATE',
  state: 'auth',
  async run(ctx, args) {
    args.end();
    await ctx.loggedOut();
    return { status: 'OK', text: 'Unauthenticate completed' };
  },
};

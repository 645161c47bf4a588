import type { CommandContext, CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { findSaslMechanism } from '../../auth/sasl/index.js';

interface AuthenticateArgs {
  mechanism: string;
  /** RFC 4959 SASL-IR initial response: undefined = none, '' = empty ("="). */
  initial?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decode(line: string): Buffer {
  if (line === '*') throw ImapError.bad('Authentication cancelled');
  if (!BASE64.test(line)) throw ImapError.bad('Invalid base64 in SASL response');
  return Buffer.from(line, 'base64');
}

async function readResponse(ctx: CommandContext, challenge: Buffer): Promise<Buffer> {
  const line = await ctx.continuation(challenge.toString('base64'));
  if (line === null) throw ImapError.bye('Connection closed during authentication');
  return decode(line.trim());
}

/** RFC 3501 §6.2.2 with RFC 4959 initial responses; mechanisms are shared with POP3 (src/auth/sasl). */
export const authenticateCommand: CommandSpec<AuthenticateArgs> = {
  name: 'AUTHENTICATE',
  states: ['notAuthenticated'],
  sensitive: true,
  parse(args) {
    const r = new ArgReader(args);
    const mechanism = r.atom('mechanism').toUpperCase();
    const initial = r.remaining ? r.atom('initial response') : undefined;
    r.end();
    return { mechanism, initial: initial === '=' ? '' : initial };
  },
  async run(ctx, args) {
    const mechanism = findSaslMechanism(args.mechanism);
    const sasl = ctx.saslContext();
    if (!mechanism || !mechanism.available(sasl.authenticator)) {
      throw ImapError.no(`Unsupported authentication mechanism ${args.mechanism}`, 'CANNOT');
    }
    let claimed: string | undefined;
    await ctx.login({
      mechanism: mechanism.name,
      plaintext: mechanism.plaintext,
      claimedUser: () => claimed,
      verify: async () => {
        const exchange = mechanism.start(sasl);
        let response: Buffer | null = args.initial === undefined ? null : decode(args.initial);
        for (let round = 0; round < 10; round++) {
          const step = await exchange.step(response);
          if (step.type === 'success') {
            // Additional data with success goes out as one more challenge (RFC 4422 §5, RFC 3501 §6.2.2).
            if (step.data && step.data.length) await readResponse(ctx, step.data);
            return step.user;
          }
          if (step.type === 'failure') {
            if (step.malformed) throw ImapError.bad(step.reason);
            claimed = step.user;
            return null;
          }
          response = await readResponse(ctx, step.data);
        }
        throw ImapError.bad('Too many SASL rounds');
      },
    });
    return {
      code: { name: 'CAPABILITY', args: ctx.server.capabilities(ctx.connection, 'authenticated').map(atom) },
      text: 'Authenticated',
    };
  },
};

/**
 * RFC 5034 AUTH mechanism [initial-response]: a SASL exchange with the mechanisms IMAP uses too.
 * Challenges go out as "+ base64", "*" cancels, "=" is an empty initial response. POP3 has no
 * room for data with success (§4), so such data goes out as one more challenge whose answer
 * must be empty (RFC 4422 §3.6). Without arguments AUTH lists the mechanisms (the RFC 1734 habit
 * some clients still probe with).
 */
import type { Pop3Command, Pop3Context, Pop3Reply } from './types.js';
import { CommandSyntaxError } from '../wire/command-line.js';
import { Pop3Error } from '../errors.js';
import { usableSaslMechanisms } from '../../auth/sasl/index.js';
import type { SaslStep } from '../../auth/sasl/types.js';
import { completeLogin, refuseLogin } from '../session/login.js';

interface AuthArgs {
  mechanism?: string;
  /** Decoded initial response; undefined when none was given. */
  initial?: Buffer;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (RFC 5034 §4: reject, do not ignore, anything outside the alphabet or misplaced '='). */
export function decodeBase64Strict(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export const authCommand: Pop3Command<AuthArgs> = {
  name: 'AUTH',
  states: ['authorization'],
  sensitive: true,
  parse(line) {
    if (line.args.length === 0) return {};
    if (line.args.length > 2) throw new CommandSyntaxError('AUTH takes a mechanism and an optional initial response');
    const [mechanism, initialText] = line.args;
    if (initialText === undefined) return { mechanism };
    if (initialText === '=') return { mechanism, initial: Buffer.alloc(0) };
    const initial = decodeBase64Strict(initialText);
    if (!initial) throw new CommandSyntaxError('Invalid base64 in initial response');
    return { mechanism, initial };
  },
  async run(ctx, args) {
    const usable = usableSaslMechanisms(ctx.services.auth.authenticator, {
      secure: ctx.connection.secure,
      allowInsecureAuth: ctx.services.allowInsecureAuth,
    });
    if (args.mechanism === undefined) {
      return { text: 'Supported SASL mechanisms follow', body: { kind: 'lines', lines: usable.map((m) => m.name) } };
    }
    if (ctx.authenticated) throw new Pop3Error('Already authenticated');
    const wanted = args.mechanism.toUpperCase();
    const mechanism = usable.find((m) => m.name === wanted);
    if (!mechanism) throw new Pop3Error(`Unsupported authentication mechanism ${wanted.slice(0, 20)}`);
    ctx.setState({ name: 'authorization' });
    const exchange = mechanism.start({
      authenticator: ctx.services.auth.authenticator,
      remoteAddress: ctx.connection.remoteAddress,
      secure: ctx.connection.secure,
      protocol: 'pop3',
      hostname: ctx.services.hostname,
    });
    let step: SaslStep = await exchange.step(args.initial ?? null);
    while (step.type === 'challenge') {
      const response = await readResponse(ctx, step.data);
      step = await exchange.step(response);
    }
    if (step.type === 'failure') {
      if (step.malformed) throw new Pop3Error(step.reason);
      return refuseLogin(ctx, step.reason, step.user);
    }
    if (step.data && step.data.length > 0) {
      const last = await readResponse(ctx, step.data);
      if (last.length !== 0) throw new Pop3Error('Expected an empty response after the final server data');
    }
    return success(ctx, step.user);
  },
};

async function readResponse(ctx: Pop3Context, challenge: Buffer): Promise<Buffer> {
  const line = await ctx.continuation(challenge);
  if (line === null) throw new Pop3Error('Connection closed during authentication');
  if (line.trim() === '*') throw new Pop3Error('Authentication cancelled');
  const decoded = decodeBase64Strict(line.trim());
  if (!decoded) throw new Pop3Error('Invalid base64 in response');
  return decoded;
}

async function success(ctx: Pop3Context, user: string): Promise<Pop3Reply> {
  const reply = await completeLogin(ctx, user);
  ctx.authenticated = true;
  return reply;
}

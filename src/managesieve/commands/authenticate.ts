/**
 * AUTHENTICATE mechanism [initial-response] (RFC 5804 §2.1): the SASL mechanisms IMAP and POP3
 * offer, with the same login guard. Challenges and answers are base64 strings (quoted or
 * literal); "*" cancels; data with success goes in the SASL response code.
 */
import { usableSaslMechanisms } from '../../auth/sasl/index.js';
import type { SaslStep } from '../../auth/sasl/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManageSieveError, type ManageSieveCommand, type ManageSieveContext, type Reply } from '../types.js';
import { encodeString } from '../wire/encode.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export const authenticateCommand: ManageSieveCommand = {
  name: 'AUTHENTICATE',
  state: 'nonauth',
  sensitive: true,
  async run(ctx, args) {
    const wanted = args.string('mechanism').toUpperCase();
    const initialText = args.optionalString('initial response');
    args.end();
    const { services } = ctx;
    const usable = usableSaslMechanisms(services.auth, { secure: ctx.secure, allowInsecureAuth: services.allowInsecureAuth });
    const mechanism = usable.find((m) => m.name === wanted);
    if (!mechanism) {
      // §1.3: a plaintext mechanism refused for want of TLS says so.
      const needsTls = !ctx.secure && services.tlsContext && ['PLAIN', 'LOGIN'].includes(wanted);
      throw new ManageSieveError(`Unsupported authentication mechanism ${wanted.slice(0, 30)}`, needsTls ? 'ENCRYPT-NEEDED' : undefined);
    }
    let initial: Buffer | null = null;
    if (initialText !== undefined) {
      initial = decodeBase64(initialText);
      if (!initial) throw new ManageSieveError('Invalid base64 in initial response');
    }
    const exchange = mechanism.start({
      authenticator: services.auth,
      remoteAddress: ctx.remoteAddress,
      secure: ctx.secure,
      protocol: 'managesieve',
      hostname: services.hostname,
    });
    let step: SaslStep = await exchange.step(initial);
    while (step.type === 'challenge') {
      const answer = await ctx.challenge(step.data);
      if (answer.kind === 'gone') throw new ManageSieveError('Connection closed during authentication', undefined, true);
      if (answer.kind === 'bad') throw new ManageSieveError(answer.reason);
      const text = answer.value.toString('latin1');
      if (text === '*') throw new ManageSieveError('Authentication cancelled');
      const decoded = decodeBase64(text);
      if (!decoded) throw new ManageSieveError('Invalid base64 in response');
      step = await exchange.step(decoded);
    }
    if (step.type === 'failure') {
      if (step.malformed) throw new ManageSieveError(step.reason);
      return refuse(ctx, step.reason, step.user);
    }
    return succeed(ctx, step.user, step.data);
  },
};

async function succeed(ctx: ManageSieveContext, user: string, data: Buffer | undefined): Promise<Reply> {
  const { services } = ctx;
  if (services.loginGuard.isLocked(ctx.remoteAddress, user)) {
    audit(ctx, 'locked', user);
    return fail(ctx, 'Authentication failed', services.loginGuard.options.baseDelayMs);
  }
  // The user's mail (and scripts) are on another server (RFC 2221 referral, an IMAP URL): kept out.
  // RFC 5804 §1.3's REFERRAL needs a sieve:// URL, which the users file does not give, so a plain NO.
  if (services.auth.referral && (await services.auth.referral.call(services.auth, user)) !== null) {
    audit(ctx, 'failure', user);
    throw new ManageSieveError('This account is served by another server');
  }
  const slot = services.limiter.admitUser(user);
  if (slot === 'user') {
    audit(ctx, 'limit', user);
    throw new ManageSieveError('Too many connections for this user, try again later', 'TRYLATER');
  }
  let mail;
  try {
    mail = await services.store.open(user, { origin: ctx.id });
  } catch (err) {
    slot.release();
    throw err;
  }
  services.loginGuard.success(ctx.remoteAddress, user);
  audit(ctx, 'success', user);
  ctx.userSlot = slot;
  ctx.loggedIn(user, mail);
  const code = data && data.length > 0 ? `SASL ${encodeString(data.toString('base64'))}` : undefined;
  return { status: 'OK', ...(code ? { code } : {}), text: 'Logged in' };
}

async function refuse(ctx: ManageSieveContext, reason: string, user: string | undefined): Promise<never> {
  const { loginGuard } = ctx.services;
  if (loginGuard.isLocked(ctx.remoteAddress, user)) {
    audit(ctx, 'locked', user);
    return fail(ctx, reason, loginGuard.options.baseDelayMs);
  }
  audit(ctx, 'failure', user);
  return fail(ctx, reason, loginGuard.failure(ctx.remoteAddress, user));
}

async function fail(ctx: ManageSieveContext, reason: string, guardDelayMs: number): Promise<never> {
  ctx.authFailures += 1;
  const { limits } = ctx.services;
  const delayMs = Math.max(limits.authFailureDelaySeconds * 1000, guardDelayMs);
  if (delayMs > 0) await sleep(delayMs);
  if (ctx.authFailures >= limits.maxAuthFailures) throw new ManageSieveError(`${reason}; too many failed logins`, undefined, true);
  throw new ManageSieveError(reason);
}

function audit(ctx: ManageSieveContext, result: 'success' | 'failure' | 'locked' | 'limit', user: string | undefined): void {
  const line = { user, result };
  if (result === 'success') ctx.logger?.info(line, 'authenticated');
  else if (result === 'failure') ctx.logger?.info(line, 'authentication failed');
  else if (result === 'locked') ctx.logger?.warn(line, 'authentication refused: locked out');
  else ctx.logger?.warn(line, 'login refused: too many connections for user');
}

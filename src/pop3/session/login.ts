/**
 * The one path into TRANSACTION shared by PASS, APOP and AUTH: login delay, the maildrop lock,
 * opening the maildrop. And the one path out of a failed login: counted, slowed, and ended after
 * too many (RFC 1939 §13 warns that USER/PASS invites password guessing).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pop3Error } from '../errors.js';
import type { Pop3Context, Pop3Reply } from '../commands/types.js';
import type { Pop3ConnectionInfo } from '../options.js';
import type { ConnectionSlot } from '../../net/connection-limits.js';

/** What the dispatcher knows about the login command being run, for the audit log and the guard. */
export interface LoginAttempt {
  /** USER (for USER/PASS), APOP, or the SASL mechanism name. */
  mechanism: string;
  /** The name the client gave, when the command carries one in clear. */
  user?: string;
}

/** Set by the dispatcher before PASS, APOP and AUTH run; commands need not know about it. */
export const loginAttempts = new WeakMap<Pop3Context, LoginAttempt>();

/** Per-user connection places held by logged-in sessions; the connection releases its own on close. */
export const userSlots = new WeakMap<Pop3ConnectionInfo, ConnectionSlot>();

/** One audit line per login outcome: user, remote address, mechanism, result — never a secret. */
function audit(ctx: Pop3Context, result: 'success' | 'failure' | 'locked' | 'limit', user: string | undefined): void {
  const attempt = loginAttempts.get(ctx);
  const mechanism = attempt?.mechanism ?? 'unknown';
  // conn, remote and protocol are bound in ctx.logger; the same fields and messages as IMAP's.
  const line = { mechanism, user: user ?? attempt?.user, result };
  if (result === 'success') ctx.logger?.info(line, 'authenticated');
  else if (result === 'failure') ctx.logger?.info(line, 'authentication failed');
  else if (result === 'locked') ctx.logger?.warn(line, 'authentication refused: locked out');
  else ctx.logger?.warn(line, 'login refused: too many connections for user');
  ctx.services.metrics.login(result, mechanism);
  const hook = ctx.services.hooks.onAuth;
  if (hook) {
    const username = user ?? attempt?.user;
    try {
      hook({ ...ctx.connection, ...(username !== undefined ? { username } : {}), mechanism, ok: result === 'success' });
    } catch (err) {
      ctx.logger?.error({ err }, 'onAuth hook failed');
    }
  }
}

export function loginDelayFor(ctx: Pop3Context, user: string | null): number | undefined {
  const policy = ctx.services.loginDelay;
  if (policy === undefined) return undefined;
  return typeof policy === 'function' ? policy(user) : policy;
}

export async function completeLogin(ctx: Pop3Context, user: string): Promise<Pop3Reply> {
  const { services, connection } = ctx;
  // The lockout is checked after the credentials, with the same answer a wrong password gets, so a
  // locked-out guesser learns nothing from trying the right one.
  if (services.loginGuard.isLocked(connection.remoteAddress, user)) {
    audit(ctx, 'locked', user);
    return failLogin(ctx, 'Invalid user name or password', services.loginGuard.options.baseDelayMs);
  }
  const key = user.toLowerCase();
  const delay = loginDelayFor(ctx, user);
  const last = services.lastLogins.get(key);
  if (delay !== undefined && delay > 0 && last !== undefined && Date.now() - last < delay * 1000) {
    // RFC 2449 §8.1.1: a well-behaved client then waits instead of retrying at once.
    throw new Pop3Error(`Minimum time between logins is ${delay} seconds`, 'LOGIN-DELAY');
  }
  // RFC 2221's login referral has no POP3 form: a user whose mail is on another server is kept out
  // (RFC 3206 SYS/PERM: not a passing problem), never shown an empty maildrop here.
  const auth = services.auth.authenticator;
  if (auth.referral && (await auth.referral.call(auth, user)) !== null) {
    audit(ctx, 'failure', user);
    throw new Pop3Error('This account is served by another server', 'SYS/PERM');
  }
  const slot = services.limiter.admitUser(user);
  if (slot === 'user') {
    audit(ctx, 'limit', user);
    throw new Pop3Error('Too many connections for this user, try again later', 'SYS/TEMP');
  }
  let locked: boolean;
  try {
    locked = await services.locks.acquire(user);
  } catch (err) {
    slot.release(); // a shared lock that could not be asked (its database is down)
    throw err;
  }
  if (!locked) {
    slot.release();
    throw new Pop3Error('Maildrop already locked by another session', 'IN-USE');
  }
  let maildrop;
  try {
    maildrop = await services.maildrops.open(user, connection.id);
  } catch (err) {
    services.locks.release(user, services.logger);
    slot.release();
    throw err;
  }
  userSlots.set(connection, slot);
  services.loginGuard.success(connection.remoteAddress, user);
  audit(ctx, 'success', user);
  ctx.setState({ name: 'transaction', user, maildrop, deleted: new Set(), retrieved: new Set() });
  connection.user = user;
  if (delay !== undefined) {
    services.lastLogins.set(key, Date.now());
    pruneLogins(services.lastLogins);
  }
  ctx.logger?.debug({ user, messages: maildrop.count }, 'maildrop opened');
  return { text: `${user}'s maildrop has ${maildrop.count} message${maildrop.count === 1 ? '' : 's'}` };
}

/** Keeps the login-delay clock from growing without bound on a busy server. */
function pruneLogins(logins: Map<string, number>): void {
  if (logins.size < 10_000) return;
  const cutoff = Date.now() - 24 * 3600 * 1000;
  for (const [user, at] of logins) if (at < cutoff) logins.delete(user);
}

/** Counts a failed login, waits a moment, and throws the -ERR [AUTH] (hanging up after too many). */
export async function refuseLogin(ctx: Pop3Context, reason: string, claimedUser?: string): Promise<never> {
  const { loginGuard } = ctx.services;
  // USER/PASS and APOP name the user in the command; a SASL exchange only in its messages.
  const attempt = loginAttempts.get(ctx);
  if (attempt && attempt.user === undefined && claimedUser !== undefined) attempt.user = claimedUser;
  const user = attempt?.user;
  const address = ctx.connection.remoteAddress;
  if (loginGuard.isLocked(address, user)) {
    audit(ctx, 'locked', undefined);
    return failLogin(ctx, reason, loginGuard.options.baseDelayMs);
  }
  audit(ctx, 'failure', undefined);
  return failLogin(ctx, reason, loginGuard.failure(address, user));
}

async function failLogin(ctx: Pop3Context, reason: string, guardDelayMs: number): Promise<never> {
  ctx.authFailures += 1;
  const { limits } = ctx.services;
  const delayMs = Math.max(limits.authFailureDelaySeconds * 1000, guardDelayMs);
  if (delayMs > 0) await sleep(delayMs);
  if (ctx.authFailures >= limits.maxAuthFailures) {
    throw new Pop3Error(`${reason}; too many failed logins, closing connection`, 'AUTH', true);
  }
  throw new Pop3Error(reason, 'AUTH');
}

/** RFC 2595 §2.2: clear-text passwords only over TLS unless the administrator allows otherwise. */
export function plaintextAllowed(ctx: Pop3Context): boolean {
  return ctx.connection.secure || ctx.services.allowInsecureAuth;
}

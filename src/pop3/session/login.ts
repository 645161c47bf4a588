/**
 * The one path into TRANSACTION shared by PASS, APOP and AUTH: login delay, the maildrop lock,
 * opening the maildrop. And the one path out of a failed login: counted, slowed, and ended after
 * too many (RFC 1939 §13 warns that USER/PASS invites password guessing).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pop3Error } from '../errors.js';
import type { Pop3Context, Pop3Reply } from '../commands/types.js';

export function loginDelayFor(ctx: Pop3Context, user: string | null): number | undefined {
  const policy = ctx.services.loginDelay;
  if (policy === undefined) return undefined;
  return typeof policy === 'function' ? policy(user) : policy;
}

export async function completeLogin(ctx: Pop3Context, user: string): Promise<Pop3Reply> {
  const { services, connection } = ctx;
  const key = user.toLowerCase();
  const delay = loginDelayFor(ctx, user);
  const last = services.lastLogins.get(key);
  if (delay !== undefined && delay > 0 && last !== undefined && Date.now() - last < delay * 1000) {
    // RFC 2449 §8.1.1: a well-behaved client then waits instead of retrying at once.
    throw new Pop3Error(`Minimum time between logins is ${delay} seconds`, 'LOGIN-DELAY');
  }
  if (!services.locks.acquire(user)) {
    throw new Pop3Error('Maildrop already locked by another session', 'IN-USE');
  }
  let maildrop;
  try {
    maildrop = await services.maildrops.open(user, connection.id);
  } catch (err) {
    services.locks.release(user);
    throw err;
  }
  ctx.setState({ name: 'transaction', user, maildrop, deleted: new Set(), retrieved: new Set() });
  connection.user = user;
  if (delay !== undefined) {
    services.lastLogins.set(key, Date.now());
    pruneLogins(services.lastLogins);
  }
  services.logger?.info({ session: connection.id, user, messages: maildrop.count }, 'pop3 login');
  return { text: `${user}'s maildrop has ${maildrop.count} message${maildrop.count === 1 ? '' : 's'}` };
}

/** Keeps the login-delay clock from growing without bound on a busy server. */
function pruneLogins(logins: Map<string, number>): void {
  if (logins.size < 10_000) return;
  const cutoff = Date.now() - 24 * 3600 * 1000;
  for (const [user, at] of logins) if (at < cutoff) logins.delete(user);
}

/** Counts a failed login, waits a moment, and throws the -ERR [AUTH] (hanging up after too many). */
export async function refuseLogin(ctx: Pop3Context, reason: string): Promise<never> {
  ctx.authFailures += 1;
  const { limits, logger } = ctx.services;
  logger?.info({ session: ctx.connection.id, failures: ctx.authFailures }, 'pop3 login failed');
  if (limits.authFailureDelaySeconds > 0) await sleep(limits.authFailureDelaySeconds * 1000);
  if (ctx.authFailures >= limits.maxAuthFailures) {
    throw new Pop3Error(`${reason}; too many failed logins, closing connection`, 'AUTH', true);
  }
  throw new Pop3Error(reason, 'AUTH');
}

/** RFC 2595 §2.2: clear-text passwords only over TLS unless the administrator allows otherwise. */
export function plaintextAllowed(ctx: Pop3Context): boolean {
  return ctx.connection.secure || ctx.services.allowInsecureAuth;
}

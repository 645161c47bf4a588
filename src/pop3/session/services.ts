/**
 * What every session of one server shares: resolved options, the mail and auth sources, the lock
 * table. Built once by createPop3Server; sessions only read it (apart from the login-delay clock).
 */
import type { Logger } from '../../util/logger.js';
import type { SecureContext } from 'node:tls';
import type { Pop3Limits } from '../limits.js';
import type { Pop3Auth } from '../auth.js';
import type { MaildropSource } from '../maildrop/types.js';
import type { MaildropLocks } from '../maildrop/locks.js';
import type { Pop3Callbacks, Pop3ExpirePolicy, Pop3LoginDelayPolicy } from '../options.js';
import type { LoginGuard } from '../../auth/login-guard.js';
import type { ConnectionLimiter } from '../../net/connection-limits.js';
import type { InputBudget } from '../../net/input-budget.js';
import type { ProtocolMetrics } from '../../metrics/types.js';
import type { Pop3Hooks } from '../hooks.js';

export interface Pop3Services {
  auth: Pop3Auth;
  maildrops: MaildropSource;
  locks: MaildropLocks;
  limits: Pop3Limits;
  logger?: Logger;
  hostname: string;
  /** Present when a certificate is configured: STLS is offered on plain connections. Replaced by setTls(). */
  tlsContext?: SecureContext;
  /** Failed-login delays and lockouts per address and per user (possibly shared with IMAP). */
  loginGuard: LoginGuard;
  /** Open connections in total, per address and per user. */
  limiter: ConnectionLimiter;
  /** Input held by all connections not logged in yet (limits.maxUnauthBufferedTotal). */
  unauthInput: InputBudget;
  allowInsecureAuth: boolean;
  welcome: string;
  implementation: string;
  loginDelay?: Pop3LoginDelayPolicy;
  expireTime?: Pop3ExpirePolicy;
  /** user (lower case) → time of the last successful login, for LOGIN-DELAY. */
  lastLogins: Map<string, number>;
  /** connect/disconnect hooks, when in callback mode. */
  callbacks?: Pop3Callbacks;
  /** The embedder's hooks ({} when none were given). */
  hooks: Pop3Hooks;
  metrics: ProtocolMetrics;
}

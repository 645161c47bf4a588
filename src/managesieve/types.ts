/** What ManageSieve commands and the connection share. */
import type { SecureContext } from 'node:tls';
import type { Logger } from '../util/logger.js';
import type { Authenticator } from '../auth/types.js';
import type { LoginGuard } from '../auth/login-guard.js';
import type { ConnectionLimiter, ConnectionSlot } from '../net/connection-limits.js';
import type { InputBudget } from '../net/input-budget.js';
import type { CompileResult } from '../sieve/types.js';
import type { MailStore, UserMailbox } from '../store/types.js';
import type { ManageSieveLimits } from './limits.js';
import type { Args } from './wire/tokens.js';

export interface ManageSieveServices {
  store: MailStore;
  auth: Authenticator;
  limits: ManageSieveLimits;
  loginGuard: LoginGuard;
  limiter: ConnectionLimiter;
  /** Input held by connections before login, all together. */
  unauthInput: InputBudget;
  logger: Logger | undefined;
  hostname: string;
  tlsContext: SecureContext | undefined;
  allowInsecureAuth: boolean;
  implementation: string;
  /** Checks a script as delivery would compile it (PUTSCRIPT, CHECKSCRIPT). */
  compile(source: string): CompileResult;
  /** SIEVE capability: the extensions `require` accepts. */
  extensions: readonly string[];
  /** MAXREDIRECTS capability. */
  maxRedirects: number;
}

/** One connection's state, as commands see and change it. */
export interface ManageSieveContext {
  readonly services: ManageSieveServices;
  readonly id: string;
  readonly remoteAddress: string;
  secure: boolean;
  /** Set once AUTHENTICATE succeeded. */
  user: string | undefined;
  mail: UserMailbox | undefined;
  userSlot: ConnectionSlot | undefined;
  authFailures: number;
  logger: Logger | undefined;
  /** Sends a SASL challenge and reads the client's answer (null: the connection closed). */
  challenge(data: Buffer): Promise<ChallengeAnswer>;
  /** Called when login state changes (input budget, user slot). */
  loggedIn(user: string, mail: UserMailbox): void;
  loggedOut(): Promise<void>;
}

export type ChallengeAnswer = { kind: 'answer'; value: Buffer } | { kind: 'gone' } | { kind: 'bad'; reason: string };

export interface Reply {
  /** Lines before the status line, each ending in CRLF (LISTSCRIPTS, GETSCRIPT, CAPABILITY). */
  lines?: string[];
  status?: 'OK' | 'NO' | 'BYE';
  code?: string;
  text?: string;
  /** After the status line: close, or switch to TLS (then the capabilities go out again). */
  after?: 'close' | 'starttls';
}

export interface ManageSieveCommand {
  readonly name: string;
  /** 'any': CAPABILITY, NOOP, LOGOUT. */
  readonly state: 'any' | 'nonauth' | 'auth';
  /** Arguments may contain passwords: never logged. */
  readonly sensitive?: boolean;
  run(ctx: ManageSieveContext, args: Args): Promise<Reply>;
}

/** A refusal with its response code (RFC 5804 §1.3); `bye` ends the connection. */
export class ManageSieveError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly bye = false,
  ) {
    super(message);
    this.name = 'ManageSieveError';
  }
}

/**
 * Failed-login accounting shared by IMAP and POP3: each failure from an address (or against a user
 * name) makes the next answer slower, and too many within the window lock that address or user out
 * for a while. Successful logins from other addresses are unaffected.
 *
 * The user threshold is higher than the address one on purpose: one guessing address is locked
 * long before its failures could lock the user it targets, so the real user, coming from elsewhere,
 * still gets in; the user lock is there for guessing spread over many addresses. Attempts refused
 * while locked are not counted again.
 */
export interface LoginGuardOptions {
  /** Failures from one address within `windowSeconds` before that address is locked out (default 10). */
  maxFailures: number;
  /** Failures against one user name within `windowSeconds` before that name is locked out (default 30). */
  maxFailuresPerUser: number;
  /** How long failures are remembered (default 600 s). */
  windowSeconds: number;
  /** Lockout length once maxFailures is reached (default 300 s). */
  lockoutSeconds: number;
  /** Delay after the first failure, doubled per further failure (default 200 ms). */
  baseDelayMs: number;
  /** Longest delay (default 5,000 ms). */
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = {
  maxFailures: 10,
  maxFailuresPerUser: 30,
  windowSeconds: 600,
  lockoutSeconds: 300,
  baseDelayMs: 200,
  maxDelayMs: 5000,
};

interface Record {
  failures: number[];
  lockedUntil: number;
}

export class LoginGuard {
  private readonly records = new Map<string, Record>();
  readonly options: LoginGuardOptions;

  constructor(options: Partial<LoginGuardOptions> = {}, private readonly now: () => number = Date.now) {
    for (const k of Object.keys(options)) {
      if (!(k in DEFAULT_LOGIN_GUARD)) throw new RangeError(`unknown login guard option "${k}" (known: ${Object.keys(DEFAULT_LOGIN_GUARD).join(', ')})`);
    }
    this.options = { ...DEFAULT_LOGIN_GUARD, ...options };
  }

  /** True when the address or the user name is locked out right now. */
  isLocked(address: string, username?: string): boolean {
    const t = this.now();
    return this.lockedUntil(`ip:${address}`) > t || (username !== undefined && this.lockedUntil(`user:${username.toLowerCase()}`) > t);
  }

  /** Records a failure; returns how long to wait before answering. */
  failure(address: string, username?: string): number {
    const a = this.bump(`ip:${address}`, this.options.maxFailures);
    const u = username !== undefined ? this.bump(`user:${username.toLowerCase()}`, this.options.maxFailuresPerUser) : 0;
    const n = Math.max(a, u);
    return Math.min(this.options.baseDelayMs * 2 ** Math.max(0, n - 1), this.options.maxDelayMs);
  }

  /**
   * Forgets the failures against `username`. The address keeps its count: otherwise a guesser with
   * one account of its own could log into it between guesses at other users' passwords and never
   * be slowed down (password spraying).
   */
  success(_address: string, username: string): void {
    this.records.delete(`user:${username.toLowerCase()}`);
  }

  private lockedUntil(key: string): number {
    return this.records.get(key)?.lockedUntil ?? 0;
  }

  private bump(key: string, max: number): number {
    const t = this.now();
    const windowStart = t - this.options.windowSeconds * 1000;
    const rec = this.records.get(key) ?? { failures: [], lockedUntil: 0 };
    rec.failures = rec.failures.filter((x) => x > windowStart);
    rec.failures.push(t);
    if (rec.failures.length >= max) {
      rec.lockedUntil = t + this.options.lockoutSeconds * 1000;
      rec.failures = [];
    }
    this.records.set(key, rec);
    if (this.records.size > 100_000) this.prune(windowStart);
    return rec.failures.length || max;
  }

  private prune(windowStart: number): void {
    const t = this.now();
    for (const [k, r] of this.records) {
      if (r.lockedUntil < t && r.failures.every((x) => x <= windowStart)) this.records.delete(k);
    }
  }
}

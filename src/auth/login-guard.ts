/**
 * Failed-login accounting shared by IMAP and POP3: each failure from an address (or against a user
 * name) makes the next answer slower, and too many within the window lock that address or user out
 * for a while. Successful logins from other addresses are unaffected.
 */
export interface LoginGuardOptions {
  /** Failures within `windowSeconds` before a lockout (default 10). */
  maxFailures: number;
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
    this.options = { ...DEFAULT_LOGIN_GUARD, ...options };
  }

  /** True when the address or the user name is locked out right now. */
  isLocked(address: string, username?: string): boolean {
    const t = this.now();
    return this.lockedUntil(`ip:${address}`) > t || (username !== undefined && this.lockedUntil(`user:${username.toLowerCase()}`) > t);
  }

  /** Records a failure; returns how long to wait before answering. */
  failure(address: string, username?: string): number {
    const a = this.bump(`ip:${address}`);
    const u = username !== undefined ? this.bump(`user:${username.toLowerCase()}`) : 0;
    const n = Math.max(a, u);
    return Math.min(this.options.baseDelayMs * 2 ** Math.max(0, n - 1), this.options.maxDelayMs);
  }

  success(address: string, username: string): void {
    this.records.delete(`ip:${address}`);
    this.records.delete(`user:${username.toLowerCase()}`);
  }

  private lockedUntil(key: string): number {
    return this.records.get(key)?.lockedUntil ?? 0;
  }

  private bump(key: string): number {
    const t = this.now();
    const windowStart = t - this.options.windowSeconds * 1000;
    const rec = this.records.get(key) ?? { failures: [], lockedUntil: 0 };
    rec.failures = rec.failures.filter((x) => x > windowStart);
    rec.failures.push(t);
    if (rec.failures.length >= this.options.maxFailures) {
      rec.lockedUntil = t + this.options.lockoutSeconds * 1000;
      rec.failures = [];
    }
    this.records.set(key, rec);
    if (this.records.size > 100_000) this.prune(windowStart);
    return rec.failures.length || this.options.maxFailures;
  }

  private prune(windowStart: number): void {
    const t = this.now();
    for (const [k, r] of this.records) {
      if (r.lockedUntil < t && r.failures.every((x) => x <= windowStart)) this.records.delete(k);
    }
  }
}

/**
 * Failed-login accounting shared by IMAP and POP3. Failures are counted under three keys:
 *
 * - the pair (address, user name): the everyday case — one person mistyping a password, or one
 *   guesser after one account. `maxFailures` (10) of them lock *that user from that address* only,
 *   so behind a shared NAT one person's typos do not lock out the office.
 * - the address alone: a guesser trying many accounts from one place (password spraying). Its
 *   threshold, `maxFailuresPerAddress` (100), is much higher, as Dovecot's per-IP auth penalty and
 *   anvil's limits are: the whole address is locked only for what no office produces by mistake.
 * - the user name alone: guessing spread over many addresses. `maxFailuresPerUser` (30).
 *
 * Each failure makes the next answer slower: the delay doubles with the pair's count (and with the
 * address's and user's counts scaled to their thresholds), from `baseDelayMs` up to `maxDelayMs`.
 * A success clears the pair and the user, not the address: otherwise a guesser with one account of
 * its own could log into it between guesses and never slow down. Attempts refused while locked are
 * not counted again. A threshold of 0 switches that lockout off.
 */
import type { LoginGuardObserver } from '../metrics/types.js';

export interface LoginGuardOptions {
  /** Failures for one (address, user) pair within `windowSeconds` before that pair is locked out (default 10; 0: never). */
  maxFailures: number;
  /** Failures from one address, whatever the users, before the whole address is locked out (default 100; 0: never). */
  maxFailuresPerAddress: number;
  /** Failures against one user name, from any address, before that name is locked out (default 30; 0: never). */
  maxFailuresPerUser: number;
  /** How long failures are remembered (default 600 s). */
  windowSeconds: number;
  /** Lockout length once a threshold is reached (default 300 s). */
  lockoutSeconds: number;
  /** Delay after the first failure, doubled per further failure (default 200 ms; 0: no delay). */
  baseDelayMs: number;
  /** Longest delay (default 5,000 ms). */
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = {
  maxFailures: 10,
  maxFailuresPerAddress: 100,
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

type Scope = 'pair' | 'address' | 'user';

/** The user name a failure is counted under when the client never said one (some SASL exchanges). */
const NO_USER = '';

export class LoginGuard {
  private readonly records = new Map<string, Record>();
  readonly options: LoginGuardOptions;
  /** Metrics hooks (delays, lockouts, refusals); set by whoever runs the servers. */
  observer: LoginGuardObserver | undefined;

  constructor(
    options: Partial<LoginGuardOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    for (const [k, v] of Object.entries(options)) {
      if (!(k in DEFAULT_LOGIN_GUARD)) throw new RangeError(`unknown login guard option "${k}" (known: ${Object.keys(DEFAULT_LOGIN_GUARD).join(', ')})`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`login guard option ${k} must be a number of 0 or more`);
    }
    this.options = { ...DEFAULT_LOGIN_GUARD, ...options };
    if (this.options.windowSeconds <= 0) throw new RangeError('login guard option windowSeconds must be positive');
  }

  /**
   * True when the address, the user name or the pair is locked out right now. Without a user name
   * (not known yet) only the address and the pair of unnamed attempts are checked.
   */
  isLocked(address: string, username?: string): boolean {
    const t = this.now();
    const user = username === undefined ? NO_USER : username.toLowerCase();
    const locked =
      this.lockedUntil(`a:${address}`) > t ||
      this.lockedUntil(`p:${address}\u0000${user}`) > t ||
      (user !== NO_USER && this.lockedUntil(`u:${user}`) > t);
    if (locked) this.observer?.refused();
    return locked;
  }

  /** Records a failure; returns how long to wait before answering. */
  failure(address: string, username?: string): number {
    const o = this.options;
    const user = username === undefined ? NO_USER : username.toLowerCase();
    const pair = this.bump(`p:${address}\u0000${user}`, o.maxFailures, 'pair');
    const byAddress = this.bump(`a:${address}`, o.maxFailuresPerAddress, 'address');
    const byUser = user === NO_USER ? 0 : this.bump(`u:${user}`, o.maxFailuresPerUser, 'user');
    // The address's and user's counts weigh as much as the pair's once scaled to their thresholds,
    // so spraying many users from one address still slows down.
    const scale = (n: number, max: number): number => (max > 0 && o.maxFailures > 0 ? (n * o.maxFailures) / max : 0);
    const level = Math.max(pair, scale(byAddress, o.maxFailuresPerAddress), scale(byUser, o.maxFailuresPerUser));
    const delay = o.baseDelayMs > 0 && level > 0 ? Math.min(o.baseDelayMs * 2 ** Math.max(0, level - 1), o.maxDelayMs) : 0;
    if (delay > 0) this.observer?.delayed(delay);
    return delay;
  }

  /** Forgets the failures of the pair and of the user name; the address keeps its count (see above). */
  success(address: string, username: string): void {
    const user = username.toLowerCase();
    this.records.delete(`p:${address}\u0000${user}`);
    this.records.delete(`u:${user}`);
  }

  private lockedUntil(key: string): number {
    return this.records.get(key)?.lockedUntil ?? 0;
  }

  /** Counts a failure under `key`; returns the failures in the window (the threshold once locked). */
  private bump(key: string, max: number, scope: Scope): number {
    const t = this.now();
    const windowStart = t - this.options.windowSeconds * 1000;
    const rec = this.records.get(key) ?? { failures: [], lockedUntil: 0 };
    rec.failures = rec.failures.filter((x) => x > windowStart);
    rec.failures.push(t);
    let n = rec.failures.length;
    if (max > 0 && n >= max) {
      rec.lockedUntil = t + this.options.lockoutSeconds * 1000;
      rec.failures = [];
      n = max;
      this.observer?.lockedOut(scope);
    }
    this.records.set(key, rec);
    if (this.records.size > 100_000) this.prune(windowStart);
    return n;
  }

  private prune(windowStart: number): void {
    const t = this.now();
    for (const [k, r] of this.records) {
      if (r.lockedUntil < t && r.failures.every((x) => x <= windowStart)) this.records.delete(k);
    }
  }
}

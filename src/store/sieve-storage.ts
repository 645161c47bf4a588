/**
 * Per-user Sieve scripts and vacation memory (RFC 5228, RFC 5804, RFC 5230 §4.2), as part of the
 * store contract. A store keeps, for each user, named scripts (UTF-8 text, at most one active) and
 * the addresses vacation answered, per handle, until a time.
 *
 * The methods are optional on UserMailbox: a third-party store that cannot keep scripts leaves them
 * out, and sieveStorage() turns the absence into one clear answer (StoreError 'cannot'), which
 * ManageSieve and the CLI report and delivery treats as "no script". Names and sizes are checked by
 * the callers (ManageSieve limits); a store only keeps what it is given.
 */
import { StoreError } from './errors.js';

export interface SieveScriptInfo {
  name: string;
  active: boolean;
  /** Octets of the script's UTF-8 text. */
  size: number;
}

export interface SieveScriptStorage {
  /** The user's scripts, by name (code-point order). */
  sieveList(): Promise<SieveScriptInfo[]>;
  /** A script's text; StoreError 'nonexistent' when there is none by that name. */
  sieveGet(name: string): Promise<string>;
  /** Creates or replaces a script; an active script stays active with its new text. */
  sievePut(name: string, content: string): Promise<void>;
  /** StoreError 'nonexistent'; 'inuse' for the active script (RFC 5804 §2.10: it must be deactivated first). */
  sieveDelete(name: string): Promise<void>;
  /** StoreError 'nonexistent' for `from`, 'alreadyexists' for `to`; the active script stays active. */
  sieveRename(from: string, to: string): Promise<void>;
  /** Makes `name` the one active script (StoreError 'nonexistent'), or none with null. */
  sieveSetActive(name: string | null): Promise<void>;
  /** The active script, or null. */
  sieveActive(): Promise<{ name: string; content: string } | null>;
  /**
   * Vacation memory (RFC 5230 §4.2): remember that `address` was answered for `handle` until
   * `until`. Replaces an earlier memory of the same pair.
   */
  vacationRemember(handle: string, address: string, until: Date): Promise<void>;
  /** True while a memory of (handle, address) lasts past `now`. Addresses compare case-insensitively. */
  vacationAnswered(handle: string, address: string, now: Date): Promise<boolean>;
  /** Forgets the memories that ended at or before `now`; returns how many. */
  vacationPrune(now: Date): Promise<number>;
  /**
   * Every memory still in effect after `now` (for `postroom migrate`). Optional: a store without it
   * is migrated without its vacation memory (vacation may then answer a sender once more).
   */
  vacationList?(now: Date): Promise<VacationMemory[]>;
  /**
   * The atomic form of "answered? if not, remember" (RFC 5230 §4.2 across processes): when no memory
   * of (handle, address) lasts past `now`, writes one ending at `until` and returns true (the caller
   * may answer); otherwise changes nothing and returns false. Check and write are one statement or
   * transaction, so of any number of concurrent claims — in one process or on several nodes of one
   * database — at most one wins. Optional, with vacationRelease: a store without them is used
   * through claimVacation()'s fallback, which is not atomic across processes.
   */
  vacationClaim?(handle: string, address: string, now: Date, until: Date): Promise<boolean>;
  /**
   * Gives back a claim whose answer could not be sent: forgets the memory of (handle, address) if it
   * still ends at `until` (a later claim, made after this one ended, is left alone).
   */
  vacationRelease?(handle: string, address: string, until: Date): Promise<void>;
}

/** One remembered vacation answer: `address` (as vacationKey keeps it) was answered for `handle` until `until`. */
export interface VacationMemory {
  handle: string;
  address: string;
  until: Date;
}

export const SIEVE_STORAGE_METHODS = [
  'sieveList',
  'sieveGet',
  'sievePut',
  'sieveDelete',
  'sieveRename',
  'sieveSetActive',
  'sieveActive',
  'vacationRemember',
  'vacationAnswered',
  'vacationPrune',
] as const satisfies readonly (keyof SieveScriptStorage)[];

/** The optional pair that makes vacation's decision atomic (hasVacationClaim). */
export const VACATION_CLAIM_METHODS = ['vacationClaim', 'vacationRelease'] as const satisfies readonly (keyof SieveScriptStorage)[];

/** True when the handle keeps scripts (every method of SieveScriptStorage is there). */
export function hasSieveStorage(mail: Partial<SieveScriptStorage>): mail is SieveScriptStorage {
  return SIEVE_STORAGE_METHODS.every((m) => typeof mail[m] === 'function');
}

/** The handle's script storage, or StoreError 'cannot' naming the reason. */
export function sieveStorage(mail: Partial<SieveScriptStorage>): SieveScriptStorage {
  if (!hasSieveStorage(mail)) throw new StoreError('cannot', 'this store does not keep Sieve scripts');
  return mail;
}

/** True when the store decides vacation answers atomically (vacationClaim and vacationRelease). */
export function hasVacationClaim(
  mail: SieveScriptStorage,
): mail is SieveScriptStorage & Required<Pick<SieveScriptStorage, 'vacationClaim' | 'vacationRelease'>> {
  return typeof mail.vacationClaim === 'function' && typeof mail.vacationRelease === 'function';
}

/**
 * vacationClaim() where the store has it; otherwise the old check-then-remember with two calls,
 * which a concurrent delivery in another process can interleave (both may answer once each). The
 * delivery pipeline also serialises claims within one process, so the fallback is exact there.
 */
export async function claimVacation(mail: SieveScriptStorage, handle: string, address: string, now: Date, until: Date): Promise<boolean> {
  if (hasVacationClaim(mail)) return mail.vacationClaim(handle, address, now, until);
  if (await mail.vacationAnswered(handle, address, now)) return false;
  await mail.vacationRemember(handle, address, until);
  return true;
}

/** Gives back a claim made by claimVacation(); for a store without vacationRelease, remembers `now` as the end (an ended memory). */
export async function releaseVacation(mail: SieveScriptStorage, handle: string, address: string, now: Date, until: Date): Promise<void> {
  if (hasVacationClaim(mail)) return mail.vacationRelease(handle, address, until);
  await mail.vacationRemember(handle, address, now);
}

/** Vacation addresses compare without regard to case (RFC 5230 §4.2 leaves it open; both Dovecot and Cyrus fold). */
export function vacationKey(address: string): string {
  return address.toLowerCase();
}

export function utf8Size(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

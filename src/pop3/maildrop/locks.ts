/**
 * Exclusive access to a maildrop (RFC 1939 §8: "the POP3 server acquires an exclusive-access
 * lock on the maildrop ... to prevent messages from being modified or removed before the session
 * enters the UPDATE state"). A second session for the same user gets -ERR [IN-USE] (RFC 2449 §8.1.2).
 *
 * Locks are per process. For the store-backed mode they are keyed by the store object, so two POP3
 * servers (say, a plain and a TLS one built separately) over one store still exclude each other.
 * A store shared by several processes (PostgreSQL) may also offer a lock that holds across them
 * (src/store/cross-process-locks.ts): it is taken after the in-process one.
 */
import type { Logger } from '../../util/logger.js';
import { maildropLockProvider, type MaildropLockProvider } from '../../store/cross-process-locks.js';

export class MaildropLocks {
  private readonly held = new Set<string>();

  constructor(private readonly shared?: MaildropLockProvider) {}

  /** True when the lock was taken; false when another session (here or in another process) holds it. */
  async acquire(user: string): Promise<boolean> {
    const key = user.toLowerCase();
    if (this.held.has(key)) return false;
    this.held.add(key);
    if (!this.shared) return true;
    let taken = false;
    try {
      taken = await this.shared.lockMaildrop(user);
    } finally {
      if (!taken) this.held.delete(key);
    }
    return taken;
  }

  release(user: string, logger?: Logger): void {
    const key = user.toLowerCase();
    if (!this.held.delete(key)) return;
    this.shared?.unlockMaildrop(user).catch((err: unknown) => logger?.warn({ err }, 'could not release the shared maildrop lock'));
  }

  get size(): number {
    return this.held.size;
  }
}

const byOwner = new WeakMap<object, MaildropLocks>();

/** The lock table shared by everyone serving the same store (or the same callbacks object). */
export function locksFor(owner: object): MaildropLocks {
  let locks = byOwner.get(owner);
  if (!locks) {
    locks = new MaildropLocks(maildropLockProvider(owner));
    byOwner.set(owner, locks);
  }
  return locks;
}

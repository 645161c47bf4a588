/**
 * Exclusive access to a maildrop (RFC 1939 §8: "the POP3 server acquires an exclusive-access
 * lock on the maildrop ... to prevent messages from being modified or removed before the session
 * enters the UPDATE state"). A second session for the same user gets -ERR [IN-USE] (RFC 2449 §8.1.2).
 *
 * Locks are per process. For the store-backed mode they are keyed by the store object, so two POP3
 * servers (say, a plain and a TLS one built separately) over one store still exclude each other.
 */
export class MaildropLocks {
  private readonly held = new Set<string>();

  /** True when the lock was taken; false when another session holds it. */
  acquire(user: string): boolean {
    const key = user.toLowerCase();
    if (this.held.has(key)) return false;
    this.held.add(key);
    return true;
  }

  release(user: string): void {
    this.held.delete(user.toLowerCase());
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
    locks = new MaildropLocks();
    byOwner.set(owner, locks);
  }
  return locks;
}

/**
 * An optional capability of a store shared by several processes: exclusive locks that hold across
 * all of them. The POP3 maildrop lock (RFC 1939 §8) uses it when the store has it, after its own
 * in-process lock, so two nodes never hand out the same maildrop. Stores used by one process need
 * not implement it; this is not part of the MailStore contract.
 */
export interface MaildropLockProvider {
  /** Takes `user`'s maildrop lock: true, or false when a session in another process holds it. */
  lockMaildrop(user: string): Promise<boolean>;
  /** Releases a lock taken by lockMaildrop. */
  unlockMaildrop(user: string): Promise<void>;
}

export function maildropLockProvider(store: object): MaildropLockProvider | undefined {
  const candidate = store as Partial<MaildropLockProvider>;
  return typeof candidate.lockMaildrop === 'function' && typeof candidate.unlockMaildrop === 'function'
    ? (candidate as MaildropLockProvider)
    : undefined;
}

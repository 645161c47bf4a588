/**
 * The name a deleted mailbox carries while its messages are purged (mailbox-purge.ts). No valid
 * mailbox name contains NUL (names.ts), so a tombstone's name never meets a user's.
 */
export const TOMBSTONE_PREFIX = '\u0000deleted:';

export function isTombstone(name: string): boolean {
  return name.startsWith(TOMBSTONE_PREFIX);
}

/**
 * URLAUTH (RFC 4467) tokens of the INTERNAL mechanism, made and checked with the mailbox access
 * keys the store keeps (UserMailbox.urlauthKey). The algorithm (§2.4.1 leaves it to the server,
 * recommending an HMAC such as HMAC-SHA1): HMAC-SHA1 keyed with the mailbox access key over the
 * rump URL exactly as written (§6: no decoding, no case-folding), prefixed with a version byte
 * (01) so the algorithm can change later (§2.4.1 SHOULD) — 42 hex digits, as Dovecot's tokens.
 *
 * Verification (§6, §7 URLFETCH): the URL must be absolute and name its owner; not be past its
 * ;EXPIRE=; its access identifier must admit this session (user+X: logged in as X; submit+X: a
 * submission user, ImapServerOptions.urlauthSubmitUsers; authuser: any logged-in user; anonymous:
 * anyone); the owner's mailbox must exist and have a key — the owner's own key (§2.2: per user and
 * per mailbox), also for a mailbox another user shares with the owner, and then only while the
 * owner still has the `r` right on it; and the token must match. A mailbox
 * that does not exist still costs an HMAC with a random key (§6: no timing oracle on names).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CommandContext } from './types.js';
import type { ImapUrl } from '../wire/imap-url.js';
import type { UserMailbox } from '../../store/types.js';
import { openWithSharing } from '../../store/sharing/shared-view.js';
import { DEFAULT_SHARED_PREFIX } from '../../store/sharing/names.js';

const VERSION = '01';

export function internalToken(key: Buffer, rump: string): string {
  return VERSION + createHmac('sha1', key).update(Buffer.from(rump, 'utf8')).digest('hex');
}

/** True when the URL's access identifier admits a session of `user` (RFC 4467 §3). */
export function accessAdmits(url: ImapUrl, user: string, submitUsers: ReadonlySet<string>): boolean {
  const access = url.urlauth?.access;
  if (!access) return false;
  switch (access.kind) {
    case 'anonymous':
    case 'authuser':
      return true;
    case 'user':
      return access.user === user;
    case 'submit':
      return submitUsers.has(user);
  }
}

/** The owner's key of the URL's mailbox, or null (no such mailbox, no key, a store without keys). */
async function ownerKey(mail: UserMailbox, mailbox: string): Promise<Buffer | null> {
  if (!mail.urlauthKey) return null;
  try {
    const info = await mail.get(mailbox);
    return await mail.urlauthKey(info.id);
  } catch {
    return null;
  }
}

/** The verifier of URLAUTH URLs for this session: resolves to the URL's owner, or null. */
export function urlauthVerifier(ctx: CommandContext): ((url: ImapUrl) => Promise<string | null>) | undefined {
  const state = ctx.state;
  if (state.kind === 'notAuthenticated' || !ctx.server.store.urlauthKeys) return undefined;
  const submitUsers = ctx.server.urlauthSubmitUsers ?? new Set<string>();
  return async (url) => {
    const auth = url.urlauth;
    const owner = url.server?.user;
    if (!auth?.token || auth.mechanism !== 'INTERNAL' || owner === undefined || url.mailbox === undefined) return null;
    if (url.expire && url.expire.getTime() <= Date.now()) return null;
    if (!accessAdmits(url, state.user, submitUsers)) return null;
    // Another owner's mail is opened only for a user the authenticator knows: opening creates a
    // user's INBOX, which a URL naming anyone must not do.
    if (owner !== state.user && !(await ctx.server.auth.lookupUser?.(owner).catch(() => null))) return null;
    // As the owner sees their mail: a URL they made for a mailbox shared with them verifies with
    // their own key of that mailbox, and only while they may still read it
    // (SharedNamespaceMail.urlauthKey); never with the mailbox owner's or another reader's key.
    const mail = owner === state.user ? state.mail : await openWithSharing(ctx.server.store, owner, undefined, DEFAULT_SHARED_PREFIX);
    try {
      const key = await ownerKey(mail, url.mailbox);
      const expected = Buffer.from(internalToken(key ?? randomBytes(32), auth.rump), 'latin1');
      const given = Buffer.from(auth.token, 'latin1');
      const match = expected.length === given.length && timingSafeEqual(expected, given);
      return key && match ? owner : null;
    } finally {
      if (mail !== state.mail) await mail.close().catch(() => undefined);
    }
  };
}

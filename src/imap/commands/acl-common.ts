/**
 * What the ACL commands (RFC 4314 §3: SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS) share: the
 * mailbox they name, the user's rights in it, and the right each needs. The rights themselves are
 * checked by the shared-namespace view (src/store/sharing/shared-view.ts); these commands only
 * refuse early, with the same answers. Registered only when the store keeps ACLs (server.ts).
 */
import type { CommandContext, ParseEnv } from './types.js';
import type { Token } from '../wire/types.js';
import { ArgReader } from '../wire/args.js';
import type { MailboxInfo, UserMailbox } from '../../store/types.js';
import { ALL_RIGHTS } from '../../store/acl.js';
import { ImapError } from '../errors.js';
import { normalizeInbox, readMailboxName, userMail } from './mailbox-name.js';

export const ACL_CAPABILITIES = ['ACL', 'RIGHTS=texk'] as const;

/** The arguments GETACL and MYRIGHTS take: a mailbox name. */
export function parseAclMailbox(args: Token[], env: ParseEnv): { name: string } {
  const r = new ArgReader(args);
  const name = readMailboxName(r, env.enabled);
  r.end();
  return { name };
}

/** The arguments DELETEACL and LISTRIGHTS take: a mailbox name and an identifier. */
export function parseAclMailboxIdentifier(args: Token[], env: ParseEnv): { name: string; identifier: string } {
  const r = new ArgReader(args);
  const name = readMailboxName(r, env.enabled);
  const identifier = r.astring('identifier');
  r.end();
  return { name, identifier };
}

export interface AclTarget {
  mail: UserMailbox;
  mailbox: MailboxInfo;
  /** The user's rights in it (every right in the user's own mailboxes). */
  rights: string;
  /** Whose mailbox it is. */
  owner: string;
}

/** The named mailbox, as the user may see it (no `l`: it does not exist, RFC 4314 §4 / docs/sharing.md). */
export async function aclTarget(ctx: CommandContext, name: string): Promise<AclTarget> {
  const mail = userMail(ctx);
  const mailbox = await mail.get(normalizeInbox(name, ctx.server.store.delimiter));
  const owner = (mail as UserMailbox & { ownerOf?: (id: string) => string }).ownerOf?.(mailbox.id) ?? mail.user;
  return { mail, mailbox, rights: mailbox.myRights ?? ALL_RIGHTS, owner };
}

/** RFC 4314 §4: SETACL, DELETEACL, GETACL and LISTRIGHTS need "a". */
export function requireAdminister(target: AclTarget): void {
  if (!target.rights.includes('a')) throw ImapError.no('Permission denied', 'NOPERM');
  if (target.mailbox.noselect && target.mailbox.myRights === '') throw ImapError.no('Permission denied', 'NOPERM');
}

/**
 * Whether this session may change a mailbox: the one place the commands ask before writing.
 *
 * Three reasons a write is refused: the session opened the mailbox with EXAMINE (its own choice,
 * answered "NO Mailbox is read-only" as Dovecot does); the store marked the mailbox read-only
 * (MailboxInfo.readOnly, an archive); or the user lacks the RFC 4314 right in another user's
 * mailbox (MailboxInfo.myRights). The last two are NO [NOPERM] (RFC 5530 §3). The rights are
 * enforced by the shared-namespace view (src/store/sharing/shared-view.ts); asking here first
 * answers before any work is done (an APPEND's literal, a MOVE's copy).
 */
import type { Flag, MailboxInfo } from '../../store/types.js';
import { ALL_RIGHTS, permittedFlags } from '../../store/acl.js';
import { ImapError } from '../errors.js';
import type { SelectedView } from './types.js';

/** The user's rights in a mailbox: every right in the user's own. */
export function rightsIn(mailbox: MailboxInfo): string {
  return mailbox.myRights ?? ALL_RIGHTS;
}

function requireRights(mailbox: MailboxInfo, rights: string): void {
  const held = rightsIn(mailbox);
  for (const r of rights) if (!held.includes(r)) throw ImapError.no('Permission denied', 'NOPERM');
}

/**
 * STORE, EXPUNGE, MOVE (out of the selected mailbox): the view must be read-write, and the user
 * must hold `rights` (EXPUNGE "e", MOVE "te"; STORE's per-flag rights are the view's to check).
 */
export function requireWritableView(view: SelectedView, rights = ''): void {
  if (view.mailbox.readOnly) throw ImapError.no('Mailbox is read-only', 'NOPERM');
  if (view.readOnly) throw ImapError.no('Mailbox is read-only');
  requireRights(view.mailbox, rights);
}

/** APPEND, COPY, MOVE (into `target`): the store must let messages in, and the user needs "i". */
export function requireWritableTarget(target: MailboxInfo): void {
  if (target.readOnly) throw ImapError.no('Mailbox is read-only', 'NOPERM');
  requireRights(target, 'i');
}

/** True when the user may change \Seen (FETCH of a body sets it only then, RFC 4314 §4). */
export function maySetSeen(view: SelectedView): boolean {
  return !view.readOnly && rightsIn(view.mailbox).includes('s');
}

/** True when CLOSE expunges (RFC 4314 §4: without "e" it closes silently). */
export function mayExpunge(view: SelectedView): boolean {
  return !view.readOnly && rightsIn(view.mailbox).includes('e');
}

/**
 * PERMANENTFLAGS of a read-write view: the flags the user may change, and \* only with "w"
 * (RFC 4314 §5.1.1: the response reflects the user's rights).
 */
export function permanentFlags(defined: readonly Flag[], mailbox: MailboxInfo): Flag[] {
  const rights = rightsIn(mailbox);
  const flags = permittedFlags(defined, rights);
  return rights.includes('w') ? [...flags, '\\*'] : flags;
}

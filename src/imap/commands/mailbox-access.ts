/**
 * Whether this session may change a mailbox: the one place the commands ask before writing.
 *
 * Two reasons a write is refused: the session opened the mailbox with EXAMINE (its own choice,
 * answered "NO Mailbox is read-only" as Dovecot does), or the store marked the mailbox read-only
 * (MailboxInfo.readOnly, an archive): then the user is not permitted, RFC 5530 §3 NOPERM.
 */
import type { MailboxInfo } from '../../store/types.js';
import { ImapError } from '../errors.js';
import type { SelectedView } from './types.js';

/** STORE, EXPUNGE, MOVE (out of the selected mailbox): the view must be read-write. */
export function requireWritableView(view: SelectedView): void {
  if (view.mailbox.readOnly) throw ImapError.no('Mailbox is read-only', 'NOPERM');
  if (view.readOnly) throw ImapError.no('Mailbox is read-only');
}

/** APPEND, COPY, MOVE (into `target`): the store must let messages in. */
export function requireWritableTarget(target: MailboxInfo): void {
  if (target.readOnly) throw ImapError.no('Mailbox is read-only', 'NOPERM');
}

/**
 * The messages changed after a mod-sequence (RFC 7162 CHANGEDSINCE, SEARCH MODSEQ), from any
 * store: its changedSince() when it has one (found by modseq), otherwise its snapshot — every
 * message's UID, flags and modseq, filtered here.
 */
import type { MessageMeta, UserMailbox } from './types.js';

export async function messagesChangedSince(mail: UserMailbox, mailboxId: string, since: number): Promise<MessageMeta[]> {
  if (mail.changedSince) return mail.changedSince(mailboxId, since);
  const { messages } = await mail.snapshot(mailboxId);
  return messages.filter((m) => m.modseq > since);
}

/**
 * The ways into UserMailbox.appendMany (RFC 3502 MULTIAPPEND: every message is added or none is)
 * and UserMailbox.replace (RFC 8508 REPLACE).
 * Callers (the IMAP APPEND, the shared-mailbox view) use this rather than testing for the optional
 * method themselves, so the fallback exists once.
 */
import type { AppendInput, AppendInputs, AppendResult, KeywordLimitOptions, ReplaceResult, UserMailbox } from './types.js';

/**
 * With the store's appendMany, one write. A store without it gets the messages one by one, and
 * those already added are expunged again when one fails — the same result for the caller, though
 * another session may see them come and go, and a crash in between can leave some.
 */
export async function appendAllOrNone(mail: UserMailbox, mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]> {
  if (mail.appendMany) return mail.appendMany(mailboxId, inputs, options);
  const done: AppendResult[] = [];
  try {
    for await (const input of inputs) done.push(await mail.append(mailboxId, input, options));
    return done;
  } catch (err) {
    if (done.length > 0) {
      const uids = done.map((d) => d.uid);
      await mail.updateFlags(mailboxId, uids, 'add', ['\\Deleted']).catch(() => undefined);
      await mail.expunge(mailboxId, uids).catch(() => undefined);
    }
    throw err;
  }
}

/** The inputs with `change` applied to each, read as lazily as they come (AppendInputs). */
export async function* mapAppendInputs<T, U>(inputs: readonly T[] | AsyncIterable<T>, change: (input: T) => U): AsyncGenerator<U> {
  for await (const input of inputs) yield change(input);
}

/**
 * RFC 8508 REPLACE: `input` appended to `toMailboxId` and message `uid` of `fromMailboxId` removed.
 * With the store's replace, one write. Without it, the append first and then \Deleted and an
 * expunge of that one UID: the old message is never removed unless the new one was added (the
 * RFC's one hard rule), though another session may see both for a moment, and a crash in between
 * leaves both.
 */
export async function replaceMessage(
  mail: UserMailbox,
  fromMailboxId: string,
  uid: number,
  toMailboxId: string,
  input: AppendInput,
  options?: KeywordLimitOptions,
): Promise<ReplaceResult> {
  if (mail.replace) return mail.replace(fromMailboxId, uid, toMailboxId, input, options);
  const appended = await mail.append(toMailboxId, input, options);
  await mail.updateFlags(fromMailboxId, [uid], 'add', ['\\Deleted']);
  const removed = await mail.expunge(fromMailboxId, [uid]);
  return { appended, expunged: removed.includes(uid) };
}

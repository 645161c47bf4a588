/**
 * Limits on what a user may build: mailboxes per user, keywords per mailbox, keyword length
 * (limits.ts). They are checked here, above the store, so every store obeys them the same way;
 * breaking one is `NO [LIMIT]` (RFC 5530 §3).
 *
 * The check here comes before the write and answers early. The stores check again inside the
 * write — CREATE and RENAME (`{ maxMailboxes }`), STORE, APPEND, COPY and MOVE (`{ maxKeywords }`,
 * src/store/keyword-limit.ts) — so parallel writers of one user cannot pass a limit together.
 */
import { rightsIn } from './mailbox-access.js';
import type { CommandContext } from './types.js';
import type { Flag, MailboxInfo, UserMailbox } from '../../store/types.js';
import { ImapError } from '../errors.js';

const isKeyword = (flag: Flag): boolean => !flag.startsWith('\\');

/**
 * CREATE is about to make `name`, or RENAME to move a mailbox there; either way the store creates
 * the missing parents too. `renamed`: the mailbox itself exists already (under its old name), and
 * `extra` more appear besides (RENAME of INBOX leaves an empty INBOX: one more).
 */
export async function checkMailboxCount(
  ctx: CommandContext,
  mail: UserMailbox,
  name: string,
  options: { renamed?: boolean; extra?: number } = {},
): Promise<void> {
  const max = ctx.server.limits.maxMailboxesPerUser;
  const existing = await mail.list();
  const names = new Set(existing.map((m) => m.name));
  const delimiter = ctx.server.store.delimiter;
  let added = options.extra ?? 0;
  const levels = delimiter ? name.split(delimiter) : [name];
  for (let i = 1; i <= levels.length - (options.renamed ? 1 : 0); i++) {
    if (!names.has(levels.slice(0, i).join(delimiter))) added++;
  }
  if (added > 0 && existing.length + added > max) throw ImapError.no(`Too many mailboxes (limit ${max})`, 'LIMIT');
}

/**
 * `flags` are about to be set on messages of `target`. Refused when a keyword is longer than
 * maxKeywordLength, or when the mailbox would hold more distinct keywords than maxKeywordsPerMailbox.
 */
export async function checkKeywords(ctx: CommandContext, mail: UserMailbox, target: MailboxInfo, flags: readonly Flag[]): Promise<void> {
  const keywords = flags.filter(isKeyword);
  if (keywords.length === 0) return;
  const { maxKeywordLength, maxKeywordsPerMailbox } = ctx.server.limits;
  const long = keywords.find((k) => Buffer.byteLength(k) > maxKeywordLength);
  if (long !== undefined) throw ImapError.no(`Keyword longer than ${maxKeywordLength} octets`, 'LIMIT');
  // Without "r" the mailbox's keywords cannot be read; the store checks its own limit then.
  if (!rightsIn(target).includes('r')) return;
  const known = await keywordsOf(ctx, mail, target);
  const after = new Set(known);
  for (const k of keywords) after.add(k.toLowerCase());
  if (after.size > maxKeywordsPerMailbox) throw ImapError.no(`Too many keywords in this mailbox (limit ${maxKeywordsPerMailbox})`, 'LIMIT');
  for (const k of after) known.add(k);
}

/**
 * Keywords in use in mailboxes other than the selected one, per session handle, for a few seconds:
 * a client that APPENDs thousands of messages with a keyword would otherwise make every APPEND
 * read the whole target mailbox. A stale set only makes the limit approximate, as it is anyway.
 */
const recent = new WeakMap<UserMailbox, Map<string, { at: number; keywords: Set<string> }>>();
const REMEMBER_MS = 5_000;

/** Keywords in use in `target` (lower-cased): the session's view when it is the selected mailbox. */
async function keywordsOf(ctx: CommandContext, mail: UserMailbox, target: MailboxInfo): Promise<Set<string>> {
  const state = ctx.state;
  if (state.kind === 'selected' && state.view.mailbox.id === target.id) return new Set(state.view.keywords().map((k) => k.toLowerCase()));
  let byMailbox = recent.get(mail);
  if (!byMailbox) recent.set(mail, (byMailbox = new Map()));
  const known = byMailbox.get(target.id);
  // The caller adds the new keywords to the set it gets: they are in use once the write is done.
  if (known && Date.now() - known.at < REMEMBER_MS) return known.keywords;
  const snapshot = await mail.snapshot(target.id);
  const keywords = new Set<string>();
  for (const m of snapshot.messages) for (const f of m.flags) if (isKeyword(f)) keywords.add(f.toLowerCase());
  byMailbox.set(target.id, { at: Date.now(), keywords });
  return keywords;
}

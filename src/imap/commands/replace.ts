/**
 * REPLACE and UID REPLACE (RFC 8508): a new version of a message of the selected mailbox — a draft
 * saved again — appended to a mailbox (the selected one or another) and the old one expunged, in
 * one store write where the store offers it (UserMailbox.replace; replaceMessage() otherwise
 * appends first and never expunges unless the append succeeded). The message argument is APPEND's
 * (flags, date, literal or literal8 — streamed when large, src/imap/session/input-rules.ts).
 *
 * Answers as RFC 8508's examples do (§3.2, §3.3): the APPENDUID of the new message in an untagged
 * OK, then — when it went into the selected mailbox — its EXISTS, then the EXPUNGE (or VANISHED
 * once QRESYNC is on) of the old one; then the tagged OK. Rights (RFC 4314, shared
 * mailboxes): "i" on the target, "t" and "e" on the selected mailbox; a read-only selection cannot
 * replace (NO [READ-ONLY]-style refusal as MOVE gives).
 */
import type { CommandContext, CommandSpec, ParseEnv } from './types.js';
import type { AppendInput } from '../../store/types.js';
import { ArgReader } from '../wire/args.js';
import { readMailboxName } from './mailbox-name.js';
import type { Token } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { appendItem, checkItem, inputFor, toInput, type AppendItem } from './append.js';
import { targetMailbox } from './copy.js';
import { requireWritableView } from './mailbox-access.js';
import { checkKeywords } from './mail-limits.js';
import { replaceMessage } from '../../store/append-many.js';

export interface ReplaceArgs extends AppendItem {
  /** A sequence number (REPLACE) or a UID (UID REPLACE). */
  message: AppendItem['message'];
  number: number;
  mailbox: string;
}

/** RFC 8508 §6: replace = "REPLACE" SP seq-number SP mailbox append-message (UID: uniqueid). */
export function parseReplaceArgs(tokens: Token[], env: ParseEnv): ReplaceArgs {
  const r = new ArgReader(tokens);
  const number = r.nzNumber('message number');
  const mailbox = readMailboxName(r, env.enabled);
  const item = appendItem(r, env);
  r.end();
  return { number, mailbox, ...item };
}

/**
 * A streamed message's bytes, failing the store's read when the command goes on after the literal:
 * REPLACE carries one message (RFC 8508 has no MULTIAPPEND form), so bytes after it are BAD and
 * nothing is replaced.
 */
function oneMessage(ctx: CommandContext, item: AppendItem): AppendInput {
  const streamed = item.message.streamed;
  if (!streamed) return inputFor(ctx, item);
  const content = (async function* () {
    yield* streamed;
    if ((await streamed.rest()) !== null) throw ImapError.bad('REPLACE takes one message');
  })();
  return { ...toInput(item), content };
}

async function runReplace(ctx: CommandContext, args: ReplaceArgs, byUid: boolean) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  // RFC 8508 §3.3: the old message goes as by STORE \Deleted + EXPUNGE.
  requireWritableView(view, 'te');
  let uid: number;
  if (byUid) {
    if (view.seqOf(args.number) === undefined) throw ImapError.no('No message with that UID');
    uid = args.number;
  } else {
    if (args.number > view.exists) throw ImapError.bad('Invalid message sequence number');
    uid = view.uidAt(args.number);
  }
  const target = await targetMailbox(mail, args.mailbox);
  checkItem(ctx, args);
  await checkKeywords(ctx, mail, target, args.flags);
  const result = await replaceMessage(mail, view.mailbox.id, uid, target.id, oneMessage(ctx, args), { maxKeywords: ctx.server.limits.maxKeywordsPerMailbox });
  const { appended } = result;
  ctx.untaggedStatus('OK', 'Replacement Message ready', { name: 'APPENDUID', args: [appended.uidValidity, appended.uid] });
  // RFC 8508's examples (§3.2, §3.3): APPENDUID, then EXISTS for the new message, then the EXPUNGE
  // of the old one — the client never sees the mailbox without either version.
  if (target.id === view.mailbox.id && view.reportOwnArrivals) await view.reportOwnArrivals(mail, [appended.uid]);
  if (result.expunged) view.applyOwnExpunge([uid]);
  return { text: `${ctx.command} completed` };
}

const maxLiteralSize = (limits: { maxMessageSize: number }): number => limits.maxMessageSize;

export const replaceCommand: CommandSpec<ReplaceArgs> = {
  name: 'REPLACE',
  sequenceNumbers: true,
  states: ['selected'],
  capabilities: ['REPLACE'],
  maxLiteralSize,
  parse: parseReplaceArgs,
  run: (ctx, args) => runReplace(ctx, args, false),
};

export const uidReplaceCommand: CommandSpec<ReplaceArgs> = {
  name: 'UID REPLACE',
  states: ['selected'],
  maxLiteralSize,
  parse: parseReplaceArgs,
  run: (ctx, args) => runReplace(ctx, args, true),
};

/**
 * COPY and UID COPY (RFC 3501 §6.4.7, §6.4.8) answering with RFC 4315 COPYUID. MOVE reuses the
 * argument parsing and target lookup from here.
 */
import type { CommandContext, CommandSpec, ParseEnv, SelectedView } from './types.js';
import type { CopyResult, MailboxInfo, UserMailbox } from '../../store/types.js';
import { ArgReader } from '../wire/args.js';
import { readMailboxName } from './mailbox-name.js';
import { atom, type Token } from '../wire/types.js';
import { formatNumberSet, type SequenceSet } from '../wire/sequence-set.js';
import { ImapError } from '../errors.js';
import { isStoreError } from '../../store/errors.js';
import type { ResponseCode } from '../wire/types.js';
import { checkKeywords } from './mail-limits.js';
import { requireWritableTarget } from './mailbox-access.js';
import { refuseOverSaveLimit } from './message-limit.js';

export interface CopyArgs {
  set: SequenceSet;
  /** Target mailbox, decoded to Unicode. */
  mailbox: string;
}

export function parseCopyArgs(tokens: Token[], env: ParseEnv): CopyArgs {
  const r = new ArgReader(tokens);
  const set = r.sequenceSet();
  const mailbox = readMailboxName(r, env.enabled);
  r.end();
  return { set, mailbox };
}

/**
 * The destination of COPY/MOVE/APPEND. RFC 3501 §6.4.7/§6.3.11: "Unless it is certain that the
 * destination mailbox can not be created, the server MUST send the response code [TRYCREATE]". That
 * covers a \Noselect placeholder too: it cannot hold messages, but CREATE turns it into a mailbox
 * that can, so the client is told to create it and retry.
 */
export async function targetMailbox(mail: UserMailbox, name: string): Promise<MailboxInfo> {
  let info: MailboxInfo;
  try {
    info = await mail.get(name);
  } catch (err) {
    if (isStoreError(err) && err.kind === 'nonexistent') throw ImapError.no('Mailbox does not exist', 'TRYCREATE');
    throw err;
  }
  if (info.noselect) throw ImapError.no('Mailbox cannot hold messages until it is created', 'TRYCREATE');
  requireWritableTarget(info);
  return info;
}

/** The distinct flags of the messages being copied or moved, as this session knows them. */
export function keywordsOf(view: SelectedView, uids: readonly number[]): string[] {
  const out = new Map<string, string>();
  for (const uid of uids) for (const f of view.flagsOf(uid)) if (!f.startsWith('\\')) out.set(f.toLowerCase(), f);
  return [...out.values()];
}

/** `COPYUID uidvalidity source-uids dest-uids`, both sets in the same (source) order (RFC 4315 §3). */
export function copyUidCode(result: CopyResult): ResponseCode {
  const src = result.mapping.map(([s]) => s);
  const dst = result.mapping.map(([, d]) => d);
  return { name: 'COPYUID', args: [result.uidValidity, atom(formatNumberSet(src)), atom(formatNumberSet(dst))] };
}

async function runCopy(ctx: CommandContext, args: CopyArgs, byUid: boolean) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  const uids = view.resolve(args.set, byUid);
  const target = await targetMailbox(mail, args.mailbox);
  // RFC 5182 §2.1 / RFC 4315: an empty set (UIDs that name nothing, an empty "$") is not an error.
  if (uids.length === 0) return { text: 'Nothing to copy' };
  // RFC 9738 SAVELIMIT: COPY is all-or-nothing, so past the limit nothing is copied.
  refuseOverSaveLimit(uids, ctx.server.limits.maxMessagesPerSave);
  await checkKeywords(ctx, mail, target, keywordsOf(view, uids));
  // One all-or-nothing store write (RFC 3501 §6.4.7): nothing is done until it is, so progress
  // lines say 0 of the total (RFC 9585) until the tagged OK.
  ctx.progress(0, uids.length);
  // The store counts the keywords again inside its write, where parallel writers cannot both pass.
  const result = await mail.copy(view.mailbox.id, uids, target.id, { maxKeywords: ctx.server.limits.maxKeywordsPerMailbox });
  if (result.mapping.length === 0) return { text: 'Nothing to copy' };
  return { code: copyUidCode(result), text: `${ctx.command} completed` };
}

export const copyCommand: CommandSpec<CopyArgs> = {
  name: 'COPY',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  parse: parseCopyArgs,
  run: (ctx, args) => runCopy(ctx, args, false),
};

export const uidCopyCommand: CommandSpec<CopyArgs> = {
  name: 'UID COPY',
  states: ['selected'],
  reportsProgress: true,
  parse: parseCopyArgs,
  run: (ctx, args) => runCopy(ctx, args, true),
};

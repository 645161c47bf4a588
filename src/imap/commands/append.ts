/**
 * APPEND (RFC 3501 §6.3.11) with RFC 4315 APPENDUID, and the RFC 6855 §4 `UTF8 (literal8)` form once
 * UTF8=ACCEPT is enabled.
 */
import type { CommandSpec, ParseEnv } from './types.js';
import type { Flag } from '../../store/types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { mailboxNameFrom } from './mailbox-name.js';
import { parseDateTime } from '../wire/datetime.js';
import type { Token } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { flagsFromTokens } from '../search/flags.js';
import { targetMailbox } from './copy.js';
import { checkKeywords } from './mail-limits.js';

export interface AppendArgs {
  mailbox: string;
  /** Without \Recent, which a client cannot set (RFC 3501 §2.3.2): it is dropped, not refused. */
  flags: Flag[];
  internalDate?: Date;
  message: MessageLiteral;
}

/**
 * The message as the framer received it: chunks, joined by nobody unless the store does — or, for
 * a large one, the literal still arriving (`streamed`), which the store reads as the client sends
 * it (src/imap/session/input-rules.ts STREAM_APPEND_ABOVE).
 */
export interface MessageLiteral {
  size: number;
  chunks: readonly Buffer[];
  streamed?: AsyncIterable<Buffer>;
}

function messageLiteral(t: Token | undefined): MessageLiteral {
  // RFC 3501 §9: append-data is a literal; a quoted string cannot carry a message (no CR/LF).
  if (!t || t.type !== 'string' || !t.literal) throw new ParseError('Expected the message as a literal');
  if (t.streamed) return { size: t.streamed.size, chunks: [], streamed: t.streamed };
  const chunks = t.chunks ?? [t.value];
  return { size: chunks.reduce((n, c) => n + c.length, 0), chunks };
}

async function* each(chunks: readonly Buffer[]): AsyncIterable<Buffer> {
  yield* chunks;
}

export function parseAppendArgs(tokens: Token[], env: ParseEnv): AppendArgs {
  const r = new ArgReader(tokens);
  // The name is decoded once the syntax is known good: a malformed command is BAD before a bad name is NO.
  const mailboxBytes = r.bytes('mailbox name');
  let flags: Flag[] = [];
  const first = r.peek();
  if (first?.type === 'list') {
    r.next();
    flags = flagsFromTokens(first.items);
  }
  let internalDate: Date | undefined;
  const maybeDate = r.peek();
  if (maybeDate?.type === 'string' && !maybeDate.literal) {
    r.next();
    internalDate = parseDateTime(maybeDate.value.toString('latin1'));
  }
  let message: MessageLiteral;
  if (env.enabled.has('UTF8=ACCEPT') && r.acceptAtom('UTF8')) {
    // RFC 6855 §4: UTF8 (literal8) carries a message whose header may hold raw UTF-8.
    const inner = r.list('UTF8 message');
    message = messageLiteral(inner.next('message literal'));
    inner.end();
  } else {
    message = messageLiteral(r.next('message literal'));
  }
  r.end();
  return { mailbox: mailboxNameFrom(mailboxBytes, env.enabled), flags, internalDate, message };
}

export const appendCommand: CommandSpec<AppendArgs> = {
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  // Checked before the "+" continuation, so an oversized message is refused without being sent.
  maxLiteralSize: (limits) => limits.maxMessageSize,
  parse: parseAppendArgs,
  async run(ctx, args) {
    const state = ctx.state;
    if (state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
    const target = await targetMailbox(state.mail, args.mailbox);
    if (args.message.size === 0) throw ImapError.no('Empty message');
    await checkKeywords(ctx, state.mail, target, args.flags);
    const { chunks, streamed } = args.message;
    const input = {
      // Several chunks go to the store as a stream: a large message is never held twice here. A
      // streamed literal is read by the store as it arrives; if the client stops half way the
      // stream throws and the store keeps nothing (the store contract for a failing content).
      content: streamed ?? (chunks.length === 1 ? chunks[0]! : each(chunks)),
      flags: args.flags,
      internalDate: args.internalDate,
    };
    // The store counts the keywords again inside its write, where parallel APPENDs cannot both pass.
    const result = await state.mail.append(target.id, input, { maxKeywords: ctx.server.limits.maxKeywordsPerMailbox });
    return { code: { name: 'APPENDUID', args: [result.uidValidity, result.uid] }, text: 'APPEND completed' };
  },
};

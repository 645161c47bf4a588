/**
 * APPEND (RFC 3501 §6.3.11) with RFC 4315 APPENDUID, the RFC 3516 §4.4 literal8 (`~{n}`) form for
 * binary content, and the RFC 6855 §4 `UTF8 (literal8)` form once UTF8=ACCEPT is enabled.
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
import { chunksAreCrlf } from '../../store/line-ends.js';

export interface AppendArgs {
  mailbox: string;
  /** Without \Recent, which a client cannot set (RFC 3501 §2.3.2): it is dropped, not refused. */
  flags: Flag[];
  internalDate?: Date;
  message: MessageLiteral;
}

/** The message as the framer received it: chunks, joined by nobody unless the store does. */
export interface MessageLiteral {
  size: number;
  chunks: readonly Buffer[];
  /** Sent as RFC 3516 literal8 (`~{n}`) outside RFC 6855's UTF8 (...): binary content, kept as given. */
  binary?: boolean;
}

function messageLiteral(t: Token | undefined): MessageLiteral {
  // RFC 3501 §9: append-data is a literal; a quoted string cannot carry a message (no CR/LF).
  if (!t || t.type !== 'string' || !t.literal) throw new ParseError('Expected the message as a literal');
  const chunks = t.chunks ?? [t.value];
  return { size: chunks.reduce((n, c) => n + c.length, 0), chunks };
}

async function* each(chunks: readonly Buffer[]): AsyncIterable<Buffer> {
  yield* chunks;
}

/**
 * RFC 3516 §4.4: a literal8 message is stored as given — NUL bytes included — and a server that
 * cannot store some binary content without changing it must refuse with NO [UNKNOWN-CTE]. Stores
 * keep CRLF line ends (src/store/line-ends.ts), and turning a lone CR or LF inside binary data into
 * CRLF would corrupt it, so such a message is refused; the client can send that part base64-encoded.
 */
function checkBinaryContent(message: MessageLiteral): void {
  if (!chunksAreCrlf(message.chunks)) {
    throw ImapError.no('Binary content with a CR or LF outside CRLF cannot be stored unchanged; send that part base64-encoded', 'UNKNOWN-CTE');
  }
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
    const token = r.next('message literal');
    message = messageLiteral(token);
    if (token.type === 'string' && token.binary) message.binary = true;
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
    if (args.message.binary) checkBinaryContent(args.message);
    await checkKeywords(ctx, state.mail, target, args.flags);
    const { chunks } = args.message;
    const result = await state.mail.append(target.id, {
      // Several chunks go to the store as a stream: a large message is never held twice here.
      content: chunks.length === 1 ? chunks[0]! : each(chunks),
      flags: args.flags,
      internalDate: args.internalDate,
    });
    return { code: { name: 'APPENDUID', args: [result.uidValidity, result.uid] }, text: 'APPEND completed' };
  },
};

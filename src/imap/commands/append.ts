/**
 * APPEND (RFC 3501 §6.3.11) with RFC 4315 APPENDUID, the RFC 3516 §4.4 literal8 (`~{n}`) form for
 * binary content, and the RFC 6855 §4 `UTF8 (literal8)` form once UTF8=ACCEPT is enabled.
 */
import type { CommandSpec, ParseEnv } from './types.js';
import type { AppendInput, AppendResult, Flag } from '../../store/types.js';
import { appendAllOrNone } from '../../store/append-many.js';
import { parseArguments } from '../wire/tokenizer.js';
import type { ImapLimits } from '../limits.js';
import { atom } from '../wire/types.js';
import { formatNumberSet } from '../wire/sequence-set.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { mailboxNameFrom } from './mailbox-name.js';
import { parseDateTime } from '../wire/datetime.js';
import type { Token } from '../wire/types.js';
import { ImapError } from '../errors.js';
import type { StreamedLiteral } from '../wire/framer.js';
import { flagsFromTokens } from '../search/flags.js';
import { targetMailbox } from './copy.js';
import { checkKeywords } from './mail-limits.js';
import { chunksAreCrlf } from '../../store/line-ends.js';
import type { CommandContext } from './types.js';
import { catenateInput, precheckCatenate } from './catenate.js';
import { refuseAppendCount } from './message-limit.js';

export interface AppendArgs extends AppendItem {
  mailbox: string;
  /** RFC 3502 MULTIAPPEND: the messages after the first, when there are any. */
  more?: AppendItem[];
}

/** One message of an APPEND: its flags, date and bytes. */
export interface AppendItem {
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
  streamed?: StreamedLiteral;
  /** Sent as RFC 3516 literal8 (`~{n}`) outside RFC 6855's UTF8 (...): binary content, kept as given. */
  binary?: boolean;
  /**
   * RFC 4469 CATENATE: the message is these parts joined (`size` and `chunks` are then those of
   * the TEXT parts alone); the URLs are resolved when the command runs (catenate.ts).
   */
  catenate?: CatenatePart[];
}

/** RFC 4469 §5 cat-part: `TEXT literal` or `URL astring`. */
export type CatenatePart = { kind: 'text'; message: MessageLiteral } | { kind: 'url'; url: string };

/** RFC 4469 §5: "CATENATE" SP "(" cat-part *(SP cat-part) ")". */
function catenateParts(r: ArgReader): MessageLiteral {
  const list = r.list('CATENATE parts');
  const parts: CatenatePart[] = [];
  while (list.remaining > 0) {
    if (list.acceptAtom('TEXT')) {
      const token = list.next('TEXT literal');
      const message = messageLiteral(token);
      // A streamed literal cannot sit inside the list (input-rules.ts streamsLiteral keeps these whole).
      if (message.streamed) throw new ParseError('A CATENATE TEXT literal cannot be streamed');
      if (token.type === 'string' && token.binary) message.binary = true;
      parts.push({ kind: 'text', message });
    } else if (list.acceptAtom('URL')) {
      parts.push({ kind: 'url', url: list.astring('URL') });
    } else {
      throw new ParseError('Expected TEXT or URL in CATENATE');
    }
  }
  if (parts.length === 0) throw new ParseError('CATENATE needs at least one part');
  const texts = parts.flatMap((p) => (p.kind === 'text' ? [p.message] : []));
  return { size: texts.reduce((n, m) => n + m.size, 0), chunks: texts.flatMap((m) => m.chunks), catenate: parts };
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

/** RFC 3501 §9 / RFC 3502 §6: [SP flag-list] [SP date-time] SP literal (or UTF8 (literal8), RFC 6855). */
export function appendItem(r: ArgReader, env: ParseEnv): AppendItem {
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
  if (r.acceptAtom('CATENATE')) {
    message = catenateParts(r);
  } else if (env.enabled.has('UTF8=ACCEPT') && r.acceptAtom('UTF8')) {
    // RFC 6855 §4: UTF8 (literal8) carries a message whose header may hold raw UTF-8.
    const inner = r.list('UTF8 message');
    message = messageLiteral(inner.next('message literal'));
    inner.end();
  } else {
    const token = r.next('message literal');
    message = messageLiteral(token);
    if (token.type === 'string' && token.binary) message.binary = true;
  }
  return { flags, internalDate, message };
}

export function parseAppendArgs(tokens: Token[], env: ParseEnv): AppendArgs {
  const r = new ArgReader(tokens);
  // The name is decoded once the syntax is known good: a malformed command is BAD before a bad name is NO.
  const mailboxBytes = r.bytes('mailbox name');
  const first = appendItem(r, env);
  // RFC 3502: further messages follow, each with its own flags and date.
  const more: AppendItem[] = [];
  while (r.remaining > 0) more.push(appendItem(r, env));
  r.end();
  const args: AppendArgs = { mailbox: mailboxNameFrom(mailboxBytes, env.enabled), ...first };
  if (more.length > 0) args.more = more;
  return args;
}

/**
 * An AppendInput from a parsed message. Several chunks go as a stream: a large message is never
 * held twice here. A streamed literal is read by the store as it arrives; if the client stops half
 * way the stream throws and the store keeps nothing (the store contract for a failing content).
 */
export function toInput(item: AppendItem): AppendInput {
  const { chunks, streamed } = item.message;
  return { content: streamed ?? (chunks.length === 1 ? chunks[0]! : each(chunks)), flags: item.flags, internalDate: item.internalDate };
}

/** The AppendInput of any message: a CATENATE's parts are read as the store reads the content. */
export function inputFor(ctx: CommandContext, item: AppendItem): AppendInput {
  return item.message.catenate ? catenateInput(ctx, item) : toInput(item);
}

/** What is refused in a message before the store sees it (a CATENATE's URLs are checked when resolved). */
export function checkItem(ctx: CommandContext, item: AppendItem): void {
  const parts = item.message.catenate;
  if (parts) {
    for (const p of parts) if (p.kind === 'text' && p.message.binary) checkBinaryContent(p.message);
    precheckCatenate(ctx, parts);
    return;
  }
  if (item.message.size === 0) throw ImapError.no('Empty message');
  if (item.message.binary) checkBinaryContent(item.message);
}

/**
 * The messages of an APPEND whose message was streamed (src/imap/session/input-rules.ts
 * STREAM_APPEND_ABOVE), as the store reads them: after each streamed message the rest of the
 * command is read (StreamedLiteral.rest(): the client sends the next message only once it has
 * had the `+` for it) and parsed into the messages that follow, the last of which may be streamed
 * again. The store adds them only once the command has ended (RFC 3502: all or none); a parse
 * error, a refused literal or a client that goes away fails the iteration, and nothing is added.
 */
async function* streamedItems(ctx: CommandContext, first: AppendItem, env: ParseEnv, limits: ImapLimits): AsyncGenerator<AppendInput> {
  let batch: AppendItem[] = [first];
  let count = 0;
  for (;;) {
    for (const item of batch) {
      // RFC 9738 SAVELIMIT: failing the iteration adds nothing (all or none).
      refuseAppendCount(++count, limits.maxMessagesPerSave);
      checkItem(ctx, item);
      yield inputFor(ctx, item);
    }
    const streamed = batch[batch.length - 1]!.message.streamed;
    const rest = streamed ? await streamed.rest() : null;
    if (!rest) return;
    const r = new ArgReader(parseArguments(rest, limits));
    batch = [];
    while (r.remaining > 0) batch.push(appendItem(r, env));
  }
}

export const appendCommand: CommandSpec<AppendArgs> = {
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  // Checked before the "+" continuation, so an oversized message is refused without being sent.
  maxLiteralSize: (limits) => limits.maxMessageSize,
  // RFC 4469 CATENATE with RFC 5550 URL-PARTIAL (";PARTIAL=" in its URLs, url-access.ts).
  capabilities: ['MULTIAPPEND', 'CATENATE', 'URL-PARTIAL'],
  parse: parseAppendArgs,
  async run(ctx, args) {
    const state = ctx.state;
    if (state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
    const target = await targetMailbox(state.mail, args.mailbox);
    const options = { maxKeywords: ctx.server.limits.maxKeywordsPerMailbox };
    let results: AppendResult[];
    if (args.message.streamed) {
      // Further messages, if any, are not read yet: their keywords are counted by the store alone.
      const env: ParseEnv = { enabled: ctx.enabled, limits: ctx.server.limits };
      results = await appendAllOrNone(state.mail, target.id, streamedItems(ctx, args, env, ctx.server.limits), options);
    } else {
      const items: AppendItem[] = [args, ...(args.more ?? [])];
      refuseAppendCount(items.length, ctx.server.limits.maxMessagesPerSave);
      for (const item of items) checkItem(ctx, item);
      await checkKeywords(ctx, state.mail, target, [...new Set(items.flatMap((i) => i.flags))]);
      // The store counts the keywords again inside its write, where parallel APPENDs cannot both pass.
      if (items.length === 1) {
        // Into the selected mailbox: the store may claim \Recent for this session in the append's
        // own write; the session reports the message before the tagged OK (RFC 3501 §2.3.2: it is
        // the first session told of it), and its view then need not claim it in a second write.
        const selected = state.kind === 'selected' && state.view.mailbox.id === target.id ? state.view : null;
        const view = selected?.claimsRecent?.() === true ? selected : null;
        const result = await state.mail.append(target.id, inputFor(ctx, args), view ? { ...options, claimRecent: true } : options);
        if (view && result.recentFrom !== undefined) view.noteRecentClaim?.(result.recentFrom, result.uid);
        // What the session announces before the tagged OK, without reading the message back.
        if (selected && result.flags) selected.noteOwnAppend?.({ uid: result.uid, flags: result.flags, modseq: result.modseq });
        results = [result];
      } else {
        results = await appendAllOrNone(state.mail, target.id, items.map((item) => inputFor(ctx, item)), options);
      }
    }
    // RFC 4315 §3 with RFC 3502: APPENDUID names every new UID, in the order the messages came.
    const uids = atom(formatNumberSet(results.map((r) => r.uid)));
    return { code: { name: 'APPENDUID', args: [results[0]!.uidValidity, results.length === 1 ? results[0]!.uid : uids] }, text: 'APPEND completed' };
  },
};

/**
 * RFC 4469 CATENATE: the content of an APPEND (or REPLACE, RFC 8508 §6 append-message takes
 * append-data) message built from TEXT literals and IMAP URLs (url-access.ts), with RFC 5550
 * `;PARTIAL=` ranges.
 *
 * The parts are read in order while the store reads the content: a URL is resolved (and its
 * bytes pinned) only when its turn comes, so at most one part's read-ahead is held at a time
 * whatever the number of parts, and a message built from URLs to large messages is streamed from
 * the store into the store. A URL that cannot be used fails the content with `NO [BADURL url]`
 * (§4.1, the first bad URL), a message growing past maxMessageSize with `NO [TOOBIG]` (§4.2):
 * a store keeps nothing of a content that fails (the MailStore contract), so nothing is added —
 * for MULTIAPPEND, no message of the command. TEXT literals are held whole until the command
 * has been read (bounded by maxCommandSize), like the literals of any command.
 */
import type { AppendInput, UserMailbox } from '../../store/types.js';
import type { CommandContext } from './types.js';
import type { AppendItem, CatenatePart } from './append.js';
import { ImapError } from '../errors.js';
import { atom } from '../wire/types.js';
import { parseImapUrl, UrlError, type ImapUrl } from '../wire/imap-url.js';
import { closeOpened, resolveUrl, UrlRefused, type UrlScope } from './url-access.js';
import { urlauthVerifier } from './urlauth-keys.js';

/** RFC 4469 §5 url-resp-text: TEXT-CHAR except "]"; anything else in the client's URL is %-escaped. */
export function badUrlCode(url: string): { name: string; args: ReturnType<typeof atom>[] } {
  const text = url.replace(/[^\x21-\x5c\x5e-\x7e]/g, (c) => Array.from(Buffer.from(c, 'utf8')).map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return { name: 'BADURL', args: [atom(text.slice(0, 1024) || '%20')] };
}

export function badUrl(url: string): ImapError {
  return ImapError.no('CATENATE append has failed: bad URL', badUrlCode(url));
}

/** The session's scope for URLs: its user and mail, the selected mailbox for `;UID=` URLs. */
export function urlScope(ctx: CommandContext): UrlScope {
  const state = ctx.state;
  if (state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
  const scope: UrlScope = { user: state.user, mail: state.mail, store: ctx.server.store, verifyUrlauth: urlauthVerifier(ctx) };
  if (state.kind === 'selected') scope.selected = { name: state.view.mailbox.name };
  return scope;
}

function parsed(text: string): ImapUrl {
  try {
    return parseImapUrl(text);
  } catch (err) {
    if (err instanceof UrlError) throw badUrl(text);
    throw err;
  }
}

async function* catenated(ctx: CommandContext, parts: readonly CatenatePart[], opened: UserMailbox[]): AsyncGenerator<Buffer> {
  const max = ctx.server.limits.maxMessageSize;
  const scope = urlScope(ctx);
  let total = 0;
  const grow = (n: number): void => {
    total += n;
    if (total > max) throw ImapError.no(`Catenated message larger than ${max} octets`, 'TOOBIG');
  };
  try {
    for (const part of parts) {
      if (part.kind === 'text') {
        grow(part.message.size);
        yield* part.message.chunks;
        continue;
      }
      let content;
      try {
        content = await resolveUrl(scope, parsed(part.url), opened);
      } catch (err) {
        if (err instanceof UrlRefused) throw badUrl(part.url);
        throw err;
      }
      grow(content.size);
      if (Buffer.isBuffer(content.bytes)) {
        if (content.bytes.length > 0) yield content.bytes;
      } else {
        yield* content.bytes;
      }
    }
    if (total === 0) throw ImapError.no('Empty message');
  } finally {
    await closeOpened(opened);
  }
}

/**
 * Fails early, before the store is asked, on what needs no store: URL syntax (the first bad URL
 * is named) and TEXT parts that alone pass the size limit.
 */
export function precheckCatenate(ctx: CommandContext, parts: readonly CatenatePart[]): void {
  let texts = 0;
  for (const part of parts) {
    if (part.kind === 'url') parsed(part.url);
    else texts += part.message.size;
  }
  if (texts > ctx.server.limits.maxMessageSize) throw ImapError.no(`Catenated message larger than ${ctx.server.limits.maxMessageSize} octets`, 'TOOBIG');
}

/** The AppendInput of a CATENATE message: its parts, read in order as the store reads the content. */
export function catenateInput(ctx: CommandContext, item: AppendItem): AppendInput {
  const parts = item.message.catenate ?? [];
  return { content: catenated(ctx, parts, []), flags: item.flags, internalDate: item.internalDate };
}

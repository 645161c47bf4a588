/**
 * URLAUTH (RFC 4467 §7): GENURLAUTH makes URLAUTH-authorized URLs for messages the user can read
 * — the user's own, and other users' mailboxes shared with the `r` right — with the user's own key
 * of the mailbox (§2.2: keys are per user and per mailbox; SharedNamespaceMail.urlauthKey);
 * RESETKEY revokes the user's URLs only; URLFETCH reads URLs — URLAUTH ones as
 * the user the URL names, with that user's rights at that moment, plain ones as CATENATE does
 * (url-access.ts) — answering NIL for any URL that does not verify, whatever the reason.
 * Registered only where the store keeps mailbox access keys (MailStore.urlauthKeys); the keys and
 * tokens are in urlauth-keys.ts.
 *
 * URLMECH: RESETKEY's tagged OK carries it; other sessions of the user with the mailbox selected
 * get an untagged `OK [URLMECH INTERNAL]` through the change feed (kind 'urlauth',
 * selected-view.ts), as §7 RESETKEY says. SELECT and EXAMINE do not send it: §7.1 lists them among
 * the commands it "is returned" with but asks nothing of them (no MUST or SHOULD), INTERNAL is
 * the only mechanism (§2.4.1, always there), and Dovecot sends none on SELECT either (Cyrus does).
 */
import type { AnyCommandSpec, CommandContext, CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, literal, type ImapValue, type Token } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { parseImapUrl, UrlError } from '../wire/imap-url.js';
import { readMailboxName, utf8Names } from './mailbox-name.js';
import { URLFETCH_PARAMS, urlMetadata, type UrlFetchParam, type UrlFetchRequest } from './urlfetch-binary.js';
import { internalToken } from './urlauth-keys.js';
import { closeOpened, resolveUrl, UrlRefused } from './url-access.js';
import { urlScope } from './catenate.js';
import type { UserMailbox } from '../../store/types.js';

function userOf(ctx: CommandContext): { user: string; mail: UserMailbox } {
  const state = ctx.state;
  if (state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
  return state;
}

function keyed(mail: UserMailbox): Required<Pick<UserMailbox, 'urlauthKey' | 'resetUrlauthKeys'>> {
  if (!mail.urlauthKey || !mail.resetUrlauthKeys) throw ImapError.no('URLAUTH keys are not kept for this mailbox');
  return { urlauthKey: mail.urlauthKey.bind(mail), resetUrlauthKeys: mail.resetUrlauthKeys.bind(mail) };
}

interface GenUrlAuthArgs {
  pairs: Array<{ url: string; mechanism: string }>;
}

/** RFC 4467 §9: genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism). */
function parseGenUrlAuth(tokens: Token[]): GenUrlAuthArgs {
  const r = new ArgReader(tokens);
  const pairs: GenUrlAuthArgs['pairs'] = [];
  do pairs.push({ url: r.astring('URL'), mechanism: r.atom('mechanism').toUpperCase() });
  while (r.remaining > 0);
  return { pairs };
}

export const genUrlAuthCommand: CommandSpec<GenUrlAuthArgs> = {
  name: 'GENURLAUTH',
  states: ['authenticated', 'selected'],
  capabilities: ['URLAUTH', 'URLAUTH=BINARY'],
  parse: parseGenUrlAuth,
  async run(ctx, args) {
    const { user, mail } = userOf(ctx);
    const keys = keyed(mail);
    const out: ImapValue[] = [];
    for (const { url: text, mechanism } of args.pairs) {
      // §7 GENURLAUTH: every check that fails is a tagged BAD.
      if (mechanism !== 'INTERNAL') throw ImapError.bad(`Unknown URLAUTH mechanism ${mechanism}`);
      let url;
      try {
        url = parseImapUrl(text);
      } catch (err) {
        if (err instanceof UrlError) throw ImapError.bad(`Invalid URL: ${err.message}`);
        throw err;
      }
      if (!url.urlauth || url.urlauth.token !== undefined) throw ImapError.bad('Missing access identifier in supplied URL');
      if (url.server?.user === undefined || url.mailbox === undefined) throw ImapError.bad('Missing owner username in supplied URL');
      if (url.server.user !== user) throw ImapError.bad('The URL must name the logged-in user as its owner');
      if (url.urlauth.access.kind === 'user' && url.urlauth.access.user === '') throw ImapError.bad('Invalid access identifier');
      let key: Buffer | null;
      try {
        const info = await mail.get(url.mailbox);
        key = await keys.urlauthKey(info.id, { create: true });
      } catch {
        // Nonexistent, or another user's mailbox without the `r` right: the same answer.
        throw ImapError.bad('The URL does not name a mailbox the user can read');
      }
      if (!key) throw ImapError.no('No mailbox access key');
      out.push(`${url.urlauth.rump}:internal:${internalToken(key, url.urlauth.rump)}`);
    }
    ctx.untagged(atom('GENURLAUTH'), ...out);
    return { text: 'GENURLAUTH completed' };
  },
};

interface ResetKeyArgs {
  mailbox?: string;
}

/** RFC 4467 §9: resetkey = "RESETKEY" [SP mailbox *(SP mechanism)]. */
function parseResetKey(tokens: Token[], env: { enabled: ReadonlySet<string> }): ResetKeyArgs {
  const r = new ArgReader(tokens);
  if (r.remaining === 0) return {};
  const mailbox = readMailboxName(r, env.enabled);
  while (r.remaining > 0) {
    const mech = r.atom('mechanism').toUpperCase();
    if (mech !== 'INTERNAL') throw new ParseError(`Unknown URLAUTH mechanism ${mech}`);
  }
  return { mailbox };
}

export const resetKeyCommand: CommandSpec<ResetKeyArgs> = {
  name: 'RESETKEY',
  states: ['authenticated', 'selected'],
  parse: parseResetKey,
  async run(ctx, args) {
    const { mail } = userOf(ctx);
    const keys = keyed(mail);
    if (args.mailbox === undefined) {
      await keys.resetUrlauthKeys();
      return { text: 'All keys removed' };
    }
    const info = await mail.get(args.mailbox);
    await keys.resetUrlauthKeys(info.id);
    return { code: { name: 'URLMECH', args: [atom('INTERNAL')] }, text: 'RESETKEY completed' };
  },
};

interface UrlFetchArgs {
  urls: UrlFetchRequest[];
}

/**
 * RFC 4467 §9 urlfetch = "URLFETCH" 1*(SP url-full), extended by RFC 5524 §5 (URLAUTH=BINARY):
 * an argument may be `"(" url-full *(SP url-fetch-param) ")"`, url-fetch-param = "BODY" /
 * "BINARY" / "BODYPARTSTRUCTURE". An unknown parameter, or both BODY and BINARY, is BAD (as
 * Dovecot answers them).
 */
function parseUrlFetch(tokens: Token[]): UrlFetchArgs {
  const r = new ArgReader(tokens);
  const urls: UrlFetchRequest[] = [];
  do {
    if (!r.isList()) {
      urls.push({ url: r.astring('URL') });
      continue;
    }
    const list = r.list('URLFETCH parameters');
    const url = list.astring('URL');
    const want = new Set<UrlFetchParam>();
    while (list.remaining > 0) {
      const param = list.atom('URLFETCH parameter').toUpperCase();
      if (!URLFETCH_PARAMS.has(param)) throw new ParseError(`Unknown URLFETCH parameter ${param.slice(0, 40)}`);
      want.add(param as UrlFetchParam);
    }
    if (want.has('BODY') && want.has('BINARY')) throw new ParseError('BODY and BINARY exclude each other (RFC 5524)');
    // `("url")` names no item, but the extended answer has at least one (RFC 5524 §5 url-metadata):
    // BODY, what the plain form sends, as Dovecot does.
    if (want.size === 0) want.add('BODY');
    urls.push({ url, want });
  } while (r.remaining > 0);
  return { urls };
}

export const urlFetchCommand: CommandSpec<UrlFetchArgs> = {
  name: 'URLFETCH',
  states: ['authenticated', 'selected'],
  parse: parseUrlFetch,
  async run(ctx, args) {
    const scope = urlScope(ctx);
    const opened: UserMailbox[] = [];
    const out: ImapValue[] = [];
    try {
      for (const { url: text, want } of args.urls) {
        let value: ImapValue = null;
        try {
          if (want) {
            // RFC 5524 §3.2: url-full followed by one parenthesised item per parameter asked.
            out.push(text, ...(await urlMetadata(scope, parseImapUrl(text), opened, want, utf8Names(ctx.enabled))));
            continue;
          }
          const content = await resolveUrl(scope, parseImapUrl(text), opened);
          const bytes = content.bytes;
          value = Buffer.isBuffer(bytes) ? literal(bytes) : literal(() => bytes, content.size);
        } catch (err) {
          // §7 URLFETCH: NIL for a URL that is invalid for any reason, validation failure included.
          if (!(err instanceof UrlRefused) && !(err instanceof UrlError)) throw err;
        }
        out.push(text, value);
      }
      ctx.untagged(atom('URLFETCH'), ...out);
      await ctx.drain();
    } finally {
      await closeOpened(opened);
    }
    return { text: 'URLFETCH completed' };
  },
};

export const URLAUTH_COMMANDS: readonly AnyCommandSpec[] = [genUrlAuthCommand, resetKeyCommand, urlFetchCommand];

/**
 * The bytes an IMAP URL names (RFC 5092), for CATENATE (RFC 4469) and URLFETCH (RFC 4467), with
 * RFC 5550 `;PARTIAL=`. The URL is read with the rights of the user it acts for:
 *
 * - A relative URL, or an absolute one naming the session's own user, is the session's: its own
 *   mailboxes, and other users' through the shared namespace (src/store/sharing/shared-view.ts)
 *   only where the ACL grants "r" (RFC 4314 §4: read = SELECT, FETCH...).
 * - An absolute URL naming another user is refused, unless it carries a URLAUTH that verifies
 *   (urlauth.ts): then it is read as that user (RFC 4467 §7 URLFETCH: "executes with the access of
 *   the userid in the server component of the URL").
 *
 * Every refusal is the same UrlRefused, whatever the reason — a mailbox that does not exist, one
 * the user may not read, another user's, a wrong UIDVALIDITY, an expunged UID, a part that is not
 * there — so a URL reveals nothing about mail the user cannot read.
 */
import type { ByteRange, MailStore, MessageRecord, UserMailbox } from '../../store/types.js';
import { StoreError } from '../../store/errors.js';
import type { ImapUrl } from '../wire/imap-url.js';
import { parseArguments } from '../wire/tokenizer.js';
import { DEFAULT_IMAP_LIMITS } from '../limits.js';
import { applyPartial, filterHeaderFields, parseSection, sectionTarget, slicePartial, type FetchSection } from '../fetch/section.js';
import { rightsIn } from './mailbox-access.js';
import { openWithSharing } from '../../store/sharing/shared-view.js';
import { DEFAULT_SHARED_PREFIX } from '../../store/sharing/names.js';

/** A URL that cannot be used: the caller answers BADURL (CATENATE) or NIL (URLFETCH). */
export class UrlRefused extends Error {
  constructor(readonly url: string) {
    super('Bad URL');
    this.name = 'UrlRefused';
  }
}

/** The bytes a URL names: their size, known before they are read, and the bytes. */
export interface UrlContent {
  size: number;
  /** Small pieces are read at once; larger ones come as a stream, pinned when the URL was resolved. */
  bytes: Buffer | AsyncIterable<Buffer>;
}

/** Pieces up to this size are read into memory when the URL is resolved; larger ones stream. */
const READ_WHOLE_UP_TO = 64 * 1024;

/** What resolving a URL may use: the session's user and mail, and the selected mailbox's name. */
export interface UrlScope {
  user: string;
  mail: UserMailbox;
  /** The selected mailbox, for `;UID=` relative URLs (RFC 4469 §3 base URL). */
  selected?: { name: string };
  store: MailStore;
  /**
   * Decides a URLAUTH-authorized URL (urlauth.ts): resolves to the owner whose rights read it, or
   * null when it does not verify. Absent: URLAUTH URLs are refused.
   */
  verifyUrlauth?: (url: ImapUrl) => Promise<string | null>;
}

function sectionOf(text: string): FetchSection {
  const token = parseArguments({ text: [`BODY[${text}]`], literals: [], size: 0 }, DEFAULT_IMAP_LIMITS)[0];
  if (!token || token.type !== 'atom' || !token.section) throw new Error('section');
  return parseSection(token.section);
}

/** The message a URL names, found and its rights checked: what resolveUrl reads from. */
export interface UrlTarget {
  mail: UserMailbox;
  mailboxId: string;
  record: MessageRecord;
  /** The URL's ;SECTION=, parsed; absent for the whole message. */
  section?: FetchSection;
}

/**
 * The message `url` names for `scope`, or UrlRefused. Handles opened to read as another user
 * (URLAUTH) are closed again through `opened` by the caller once the content has been read.
 */
export async function locateUrl(scope: UrlScope, url: ImapUrl, opened: UserMailbox[]): Promise<UrlTarget> {
  const refuse = (): never => {
    throw new UrlRefused(url.text);
  };
  let mail = scope.mail;
  if (url.urlauth?.token !== undefined) {
    const owner = scope.verifyUrlauth ? await scope.verifyUrlauth(url).catch(() => null) : null;
    if (owner === null) return refuse();
    if (owner !== scope.user) {
      mail = await openWithSharing(scope.store, owner, undefined, DEFAULT_SHARED_PREFIX);
      opened.push(mail);
    }
  } else if (url.urlauth) {
    return refuse(); // A rump URL (no token) authorizes nothing.
  } else if (url.server?.user !== undefined && url.server.user !== scope.user) {
    return refuse();
  } else if (url.server && url.server.user === undefined) {
    return refuse(); // RFC 5092 §3.2: an anonymous login, which this server does not offer.
  }
  const name = url.mailbox ?? scope.selected?.name;
  if (name === undefined) return refuse();
  try {
    const info = await mail.get(name);
    if (info.noselect || !rightsIn(info).includes('r')) return refuse();
    if (url.uidValidity !== undefined && (await mail.status(info.id)).uidValidity !== url.uidValidity) return refuse();
    const [record] = await mail.records(info.id, [url.uid]);
    if (!record) return refuse();
    const target: UrlTarget = { mail, mailboxId: info.id, record };
    if (url.section !== undefined) target.section = sectionOf(url.section);
    return target;
  } catch (err) {
    throw refusal(err, url);
  }
}

/**
 * Why a URL cannot be read, as what to throw: a store that cannot answer now is a server failure
 * (RFC 4467 §7 URLFETCH: NO, retry later), which says nothing about the URL's mailbox; anything
 * else — nonexistent, no rights, a damaged message — is the same UrlRefused, nothing revealed.
 */
export function refusal(err: unknown, url: ImapUrl): unknown {
  if (err instanceof UrlRefused) return err;
  if (err instanceof StoreError && err.kind === 'unavailable') return err;
  return new UrlRefused(url.text);
}

/**
 * The content of `url` for `scope`, or UrlRefused. Handles opened to read as another user (URLAUTH)
 * are closed again through `opened` by the caller once the content has been read.
 */
export async function resolveUrl(scope: UrlScope, url: ImapUrl, opened: UserMailbox[]): Promise<UrlContent> {
  const refuse = (): never => {
    throw new UrlRefused(url.text);
  };
  const { mail, mailboxId, record, section } = await locateUrl(scope, url, opened);
  try {
    let range: ByteRange = { start: 0, end: record.size };
    if (section && !(section.path.length === 0 && section.text === 'all')) {
      const structure = await mail.structure(mailboxId, url.uid);
      const target = sectionTarget(structure, section);
      if (!target) return refuse();
      if (target.kind === 'fields') {
        const header = await mail.read(mailboxId, url.uid, target.header);
        const bytes = slicePartial(filterHeaderFields(header, target.names, target.not), url.partial);
        return { size: bytes.length, bytes };
      }
      range = { start: Math.min(target.range.start, record.size), end: Math.min(target.range.end, record.size) };
    }
    range = applyPartial(range, url.partial);
    const size = Math.max(0, range.end - range.start);
    if (size === 0) return { size: 0, bytes: Buffer.alloc(0) };
    if (size <= READ_WHOLE_UP_TO) {
      const bytes = await mail.read(mailboxId, url.uid, range);
      return { size: bytes.length, bytes };
    }
    // Pinned now (MailStore contract): an expunge before the store reads it cannot cut it short.
    const stream = mail.stream(mailboxId, url.uid, range);
    await stream.pinned;
    return { size, bytes: stream };
  } catch (err) {
    throw refusal(err, url);
  }
}

/** Closes the handles resolveUrl() opened for URLAUTH owners. */
export async function closeOpened(opened: UserMailbox[]): Promise<void> {
  await Promise.all(opened.splice(0).map((m) => m.close().catch(() => undefined)));
}

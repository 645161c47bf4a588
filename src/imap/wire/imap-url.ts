/**
 * IMAP URLs (RFC 5092) naming a message or a part of one, as CATENATE (RFC 4469 §3), URLFETCH and
 * GENURLAUTH (RFC 4467) take them, with RFC 5550's `;PARTIAL=` and RFC 4467's `;EXPIRE=` and
 * `;URLAUTH=`. Pure: text in, a typed URL out (or UrlError). No store, no session.
 *
 * Accepted shapes:
 *   imap://[user[;AUTH=x]@]host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]][;EXPIRE=t][;URLAUTH=a[:mech:token]]
 *   /mailbox[;UIDVALIDITY=n]/;UID=n[...]   (relative to "imap://user@server/", RFC 4469 §3)
 *   ;UID=n[...]                             (relative to the selected mailbox, RFC 4469 §3)
 * Keys are case-insensitive (RFC 5092 §9 ABNF strings). Anything naming a whole server, a list of
 * mailboxes, a mailbox or a search (RFC 4467 §7 URLFETCH: NIL for those) is refused here.
 */
import { parseArguments } from './tokenizer.js';
import { DEFAULT_IMAP_LIMITS } from '../limits.js';

export class UrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlError';
  }
}

/** RFC 4467 §3 access identifiers. */
export type UrlAccess = { kind: 'submit'; user: string } | { kind: 'user'; user: string } | { kind: 'authuser' } | { kind: 'anonymous' };

export interface ImapUrl {
  /** The text as given (BADURL names it, RFC 4469 §4.1). */
  text: string;
  /** Absolute (`imap://`): the URL's user (percent-decoded) and host; absent in a relative URL. */
  server?: { user?: string; host: string; port?: number; auth?: string };
  /** The mailbox name (UTF-8, decoded); absent for `;UID=` relative to the selected mailbox. */
  mailbox?: string;
  uidValidity?: number;
  uid: number;
  /** The section spec as in FETCH BODY[...] ("1.2.MIME", "HEADER.FIELDS (From)"); absent: the whole message. */
  section?: string;
  /** RFC 5550: <offset.length> of the section. */
  partial?: { offset: number; length?: number };
  expire?: Date;
  urlauth?: {
    access: UrlAccess;
    /** The mechanism (upper-cased) and token (lower-cased hex), absent in a rump URL (GENURLAUTH). */
    mechanism?: string;
    token?: string;
    /** RFC 4467 §6: the URL up to and including the access identifier, exactly as given. */
    rump: string;
  };
}

const NZ = /^[1-9]\d{0,9}$/;

function nzNumber(value: string, what: string): number {
  if (!NZ.test(value) || Number(value) > 0xffffffff) throw new UrlError(`Invalid ${what}`);
  return Number(value);
}

/** RFC 3986 percent-decoding of UTF-8 text; a bad escape or invalid UTF-8 is refused. */
export function percentDecode(text: string): string {
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(text)) throw new UrlError('Invalid percent-encoding');
  const bytes = Buffer.from(text.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  const decoded = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoded.decode(bytes);
  } catch {
    throw new UrlError('Invalid UTF-8 in URL');
  }
}

/** RFC 3986 percent-encoding of a mailbox name for a URL (unreserved and sub-delims kept, as RFC 5092 achar). */
export function percentEncodeMailbox(name: string): string {
  return Array.from(Buffer.from(name, 'utf8'))
    .map((b) => (/[A-Za-z0-9\-._~!$'()*+,&=:@/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** RFC 3339 date-time (RFC 4467 §9 expire). */
function parseExpire(text: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(text);
  if (!m) throw new UrlError('Invalid EXPIRE date-time');
  const d = new Date(text.toUpperCase());
  if (Number.isNaN(d.getTime())) throw new UrlError('Invalid EXPIRE date-time');
  return d;
}

function parseAccess(text: string): UrlAccess {
  const lower = text.toLowerCase();
  if (lower === 'authuser') return { kind: 'authuser' };
  if (lower === 'anonymous') return { kind: 'anonymous' };
  const m = /^(submit|user)\+(.+)$/i.exec(text);
  if (!m) throw new UrlError('Invalid URLAUTH access identifier');
  return { kind: m[1]!.toLowerCase() as 'submit' | 'user', user: percentDecode(m[2]!) };
}

/** The section text must be one FETCH would take: checked with the command tokenizer. */
function checkSection(section: string): void {
  if (/[\r\n\]]/.test(section)) throw new UrlError('Invalid SECTION');
  try {
    const tokens = parseArguments({ text: [`BODY[${section}]`], literals: [], size: 0 }, DEFAULT_IMAP_LIMITS);
    if (tokens.length !== 1 || tokens[0]!.type !== 'atom' || !tokens[0]!.section) throw new UrlError('Invalid SECTION');
  } catch (err) {
    if (err instanceof UrlError) throw err;
    throw new UrlError('Invalid SECTION');
  }
}

/** Splits `;KEY=value` parameters of one path segment; the text before the first `;` is returned too. */
function segmentParams(segment: string): { head: string; params: Array<[string, string]> } {
  const pieces = segment.split(';');
  const params: Array<[string, string]> = [];
  for (const p of pieces.slice(1)) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UrlError('Invalid URL parameter');
    params.push([p.slice(0, eq).toUpperCase(), p.slice(eq + 1)]);
  }
  return { head: pieces[0]!, params };
}

export function parseImapUrl(text: string): ImapUrl {
  if (text.length === 0 || text.length > 8192) throw new UrlError('Invalid URL length');
  if (/[\x00-\x20\x7f-\uffff"]/.test(text)) throw new UrlError('Invalid character in URL');
  const url: Partial<ImapUrl> & { text: string } = { text };
  let rest = text;
  // RFC 4467 §6: the rump is the URL minus ":<mech>:<token>", found before any decoding.
  const auth = /;URLAUTH=([^;/:]+)(?::([A-Za-z0-9.-]+):([0-9A-Fa-f]+))?$/i.exec(rest);
  if (auth) {
    const rumpEnd = auth.index + ';URLAUTH='.length + auth[1]!.length;
    url.urlauth = { access: parseAccess(auth[1]!), rump: text.slice(0, rumpEnd) };
    if (auth[2] !== undefined) {
      if (auth[3]!.length < 32) throw new UrlError('URLAUTH token too short');
      url.urlauth.mechanism = auth[2].toUpperCase();
      url.urlauth.token = auth[3]!.toLowerCase();
    }
    rest = rest.slice(0, auth.index);
  } else if (/;URLAUTH=/i.test(rest)) {
    throw new UrlError('Invalid URLAUTH');
  }
  const expire = /;EXPIRE=([^;/]+)$/i.exec(rest);
  if (expire) {
    url.expire = parseExpire(expire[1]!);
    rest = rest.slice(0, expire.index);
  }
  if (/^imap:\/\//i.test(rest)) {
    rest = rest.slice(7);
    const slash = rest.indexOf('/');
    if (slash < 0) throw new UrlError('URL names a whole server');
    const authority = rest.slice(0, slash);
    rest = rest.slice(slash);
    const at = authority.lastIndexOf('@');
    const userPart = at >= 0 ? authority.slice(0, at) : undefined;
    const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
    const hp = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(hostPort);
    if (!hp || hp[1] === '') throw new UrlError('Invalid host');
    url.server = { host: hp[1]!.toLowerCase() };
    if (hp[2] !== undefined) url.server.port = Number(hp[2]);
    if (userPart !== undefined) {
      const { head, params } = segmentParams(userPart);
      if (head === '') throw new UrlError('Empty user name');
      url.server.user = percentDecode(head);
      for (const [k, v] of params) {
        if (k !== 'AUTH') throw new UrlError('Invalid user parameter');
        url.server.auth = v;
      }
    }
  }
  // What is left: "/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o.l]" or ";UID=n[...]".
  let segments: string[];
  if (rest.startsWith('/')) {
    segments = rest.slice(1).split('/');
    // A mailbox name may hold "/" (the hierarchy delimiter): its segments end where ";UID=" starts.
    const uidAt = segments.findIndex((s) => /^;UID=/i.test(s));
    if (uidAt <= 0) throw new UrlError('URL does not name a message');
    const mailboxText = segments.slice(0, uidAt).join('/');
    const { head, params } = segmentParams(mailboxText);
    if (head === '') throw new UrlError('Missing mailbox name');
    url.mailbox = percentDecode(head);
    for (const [k, v] of params) {
      if (k !== 'UIDVALIDITY') throw new UrlError('Invalid mailbox parameter');
      url.uidValidity = nzNumber(v, 'UIDVALIDITY');
    }
    segments = segments.slice(uidAt);
  } else if (/^;UID=/i.test(rest)) {
    if (url.server) throw new UrlError('URL does not name a message');
    segments = rest.split('/');
  } else {
    throw new UrlError('URL does not name a message');
  }
  const order = ['UID', 'SECTION', 'PARTIAL'];
  let last = -1;
  for (const seg of segments) {
    const m = /^;([A-Za-z]+)=(.*)$/.exec(seg);
    if (!m || m[2]!.includes(';')) throw new UrlError('Invalid URL path');
    const key = m[1]!.toUpperCase();
    const at = order.indexOf(key);
    if (at <= last) throw new UrlError(`Unexpected ;${m[1]}=`);
    last = at;
    const value = m[2]!;
    if (key === 'UID') url.uid = nzNumber(value, 'UID');
    else if (key === 'SECTION') {
      const section = percentDecode(value);
      checkSection(section);
      url.section = section;
    } else {
      const p = /^(\d{1,10})(?:\.([1-9]\d{0,9}))?$/.exec(value);
      if (!p) throw new UrlError('Invalid PARTIAL');
      url.partial = p[2] === undefined ? { offset: Number(p[1]) } : { offset: Number(p[1]), length: Number(p[2]) };
    }
  }
  if (url.uid === undefined) throw new UrlError('URL does not name a message');
  return url as ImapUrl;
}

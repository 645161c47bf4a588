/**
 * URLAUTH=BINARY (RFC 5524): URLFETCH `("url" BODYPARTSTRUCTURE BINARY)` answers, for a URL that
 * verifies, one parenthesised item per parameter — `(BODYPARTSTRUCTURE <body>)`, `(BINARY <the part
 * with its Content-Transfer-Encoding removed>)`, `(BODY <the part as stored>)` — so a submission
 * server or a non-mail application can use a part without decoding MIME itself.
 *
 * - BINARY decodes as FETCH BINARY[part] does (../fetch/binary.ts: base64 and quoted-printable;
 *   a literal8 when the bytes hold a NUL), with the URL's ;PARTIAL= cut from the decoded bytes.
 *   A part whose encoding is unknown is `(BINARY NIL)` (RFC 5524 §3.2: NIL when the server cannot
 *   decode), and so is a ;SECTION= that names no body part but TEXT (a message's body under its
 *   own transfer encoding, which BINARY[] has no section for); HEADER, HEADER.FIELDS and MIME carry
 *   no transfer encoding and are sent as they are.
 * - BODYPARTSTRUCTURE is FETCH BODYSTRUCTURE of the part the section's number names (the whole
 *   message without one), with RFC 2231 parameter values kept ASCII unless UTF8=ACCEPT is enabled.
 * - BODY is what the plain URLFETCH sends.
 *
 * A URL that does not verify is `url NIL`, as in the plain form. Each item is in its own
 * parentheses, `url (A …) (B …)`, as RFC 5524 §5 has it (url-metadata = 1*(SP "(" url-metadata-el
 * ")")); Dovecot 2.3 puts them in one, `url (A … B …)`, which is the same for one item.
 */
import type { ImapUrl } from '../wire/imap-url.js';
import { atom, literal, type ImapValue } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { MessageSource } from '../fetch/message-source.js';
import { binaryValue } from '../fetch/binary.js';
import { renderBodyStructure } from '../fetch/bodystructure.js';
import { findPart } from '../fetch/section.js';
import { locateUrl, refusal, resolveUrl, type UrlScope } from './url-access.js';
import type { UserMailbox } from '../../store/types.js';

export type UrlFetchParam = 'BODY' | 'BINARY' | 'BODYPARTSTRUCTURE';

export const URLFETCH_PARAMS: ReadonlySet<string> = new Set<UrlFetchParam>(['BODY', 'BINARY', 'BODYPARTSTRUCTURE']);

/** One URLFETCH argument: a URL, with the RFC 5524 parameters when it came in parentheses. */
export interface UrlFetchRequest {
  url: string;
  want?: Set<UrlFetchParam>;
}

/** The metadata items of one URL (RFC 5524 §3.2), in the order BODYPARTSTRUCTURE, BINARY, BODY. */
export async function urlMetadata(scope: UrlScope, url: ImapUrl, opened: UserMailbox[], want: ReadonlySet<UrlFetchParam>, utf8: boolean): Promise<ImapValue[]> {
  const target = await locateUrl(scope, url, opened);
  const out: ImapValue[] = [];
  try {
    const src = new MessageSource(target.mail, target.mailboxId, target.record.uid, target.record);
    const section = target.section;
    if (want.has('BODYPARTSTRUCTURE')) {
      const structure = await src.structure();
      const part = section && section.path.length > 0 ? findPart(structure, section.path) : structure.root;
      if (!part) throw new Error('no such part');
      out.push([atom('BODYPARTSTRUCTURE'), renderBodyStructure(part, true, utf8)]);
    }
    if (want.has('BINARY')) out.push([atom('BINARY'), await binaryOf(src, url, section?.path ?? [], section?.text ?? 'all', scope, opened)]);
  } catch (err) {
    throw refusal(err, url);
  }
  if (want.has('BODY')) {
    const content = await resolveUrl(scope, url, opened);
    const bytes = content.bytes;
    out.push([atom('BODY'), Buffer.isBuffer(bytes) ? literal(bytes) : literal(() => bytes, content.size)]);
  }
  return out;
}

async function binaryOf(src: MessageSource, url: ImapUrl, path: number[], text: string, scope: UrlScope, opened: UserMailbox[]): Promise<ImapValue> {
  if (text === 'all') {
    if (path.length > 0 && !findPart(await src.structure(), path)) throw new Error('no such part');
    try {
      return await binaryValue(src, path, url.partial);
    } catch (err) {
      // RFC 5524 §3.2: a part the server cannot decode is NIL (FETCH would say NO [UNKNOWN-CTE]).
      if (err instanceof ImapError && err.code?.name === 'UNKNOWN-CTE') return null;
      throw err;
    }
  }
  if (text === 'text') return null;
  // Header fields and MIME headers carry no transfer encoding: the bytes the URL names.
  const content = await resolveUrl(scope, url, opened);
  const bytes = content.bytes;
  return Buffer.isBuffer(bytes) ? literal(bytes) : literal(() => bytes, content.size);
}

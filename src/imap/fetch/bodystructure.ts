/**
 * FETCH BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, grammar in §9 body*): BODY is the same tree
 * without extension data. Type, subtype and encoding are upper-cased (as in the RFC's examples;
 * clients compare them case-insensitively anyway); other strings are as written in the message.
 */
import type { Disposition, Envelope, MimePart } from '../../mime/types.js';
import { concat, type ImapValue } from '../wire/types.js';
import { renderEnvelope } from './envelope.js';
import { EMPTY_ENVELOPE } from '../../mime/envelope.js';
import { emptyPart } from '../../mime/parse.js';


/** RFC 2231 §7 attribute-char: what stays as it is in an extended value; the rest is %XX. */
const ATTRIBUTE_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `name*` and `utf-8''%XX…` (RFC 2231 §4): a Unicode parameter value in 7-bit form. */
function rfc2231(name: string, value: string): [string, string] {
  let out = "utf-8''";
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTRIBUTE_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return [`${name}*`, out];
}

/**
 * body-fld-param: ("name" "value" ...) or NIL. Values are kept decoded (RFC 2231 continuations and
 * charsets resolved). A value with characters beyond ASCII goes out as it is only to a client that
 * enabled UTF8=ACCEPT or IMAP4rev2 (RFC 6855 §3, RFC 9051). Any other client gets it in RFC 2231
 * form, `name*` = `utf-8''%C3%9C…`, not 8-bit text in a charset it never agreed to (RFC 3501 §4.3).
 * Dovecot and Cyrus send the same form, and clients that read attachments' names decode it.
 */
function params(list: Array<[string, string]>, utf8: boolean): ImapValue {
  if (list.length === 0) return null;
  return list.flatMap(([k, v]) => (utf8 || !/[^\x00-\x7f]/.test(v) ? [k, v] : rfc2231(k, v)));
}

function disposition(d: Disposition | null, utf8: boolean): ImapValue {
  return d ? [d.value, params(d.params, utf8)] : null;
}

/** body-fld-lang: one string, or a list when there are several. */
function language(tags: string[] | null): ImapValue {
  if (!tags || tags.length === 0) return null;
  return tags.length === 1 ? tags[0]! : tags;
}

/** `utf8`: the session enabled UTF8=ACCEPT or IMAP4rev2, so 8-bit parameter values may go as they are. */
export function renderBodyStructure(part: MimePart, extended: boolean, utf8 = false): ImapValue {
  const subtype = part.contentType.subtype.toUpperCase();
  if (part.parts && part.parts.length > 0) {
    // body-type-mpart = 1*body SP media-subtype: the parts are adjacent, with no space between.
    const out: ImapValue[] = [concat(part.parts.map((p) => renderBodyStructure(p, extended, utf8))), subtype];
    // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]
    if (extended) out.push(params(part.contentType.params, utf8), disposition(part.disposition, utf8), language(part.language), part.location);
    return out;
  }
  const type = part.contentType.type.toUpperCase();
  const out: ImapValue[] = [
    type,
    subtype,
    params(part.contentType.params, utf8),
    part.id,
    part.description,
    part.encoding.toUpperCase(),
    Math.max(0, part.bodyEnd - part.bodyStart),
  ];
  if (type === 'TEXT') {
    out.push(part.bodyLines);
  } else if (type === 'MESSAGE' && subtype === 'RFC822') {
    // body-type-msg: envelope, body of the enclosed message, lines. RFC 3501's grammar has this form
    // for RFC822 only, so message/global (RFC 6532) is sent as a basic body for IMAP4rev1 clients.
    // An encoded message/rfc822 could not be looked into; the grammar still wants the full form.
    const enclosed = part.message ?? { envelope: EMPTY_ENVELOPE, root: emptyPart(part.bodyEnd) };
    out.push(renderEnvelope(enclosed.envelope), renderBodyStructure(enclosed.root, extended, utf8), part.bodyLines);
  }
  // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]
  if (extended) out.push(part.md5, disposition(part.disposition, utf8), language(part.language), part.location);
  return out;
}

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


/** body-fld-param: ("name" "value" ...) or NIL. */
function params(list: Array<[string, string]>): ImapValue {
  if (list.length === 0) return null;
  return list.flatMap(([k, v]) => [k, v]);
}

function disposition(d: Disposition | null): ImapValue {
  return d ? [d.value, params(d.params)] : null;
}

/** body-fld-lang: one string, or a list when there are several. */
function language(tags: string[] | null): ImapValue {
  if (!tags || tags.length === 0) return null;
  return tags.length === 1 ? tags[0]! : tags;
}

export function renderBodyStructure(part: MimePart, extended: boolean): ImapValue {
  const subtype = part.contentType.subtype.toUpperCase();
  if (part.parts && part.parts.length > 0) {
    // body-type-mpart = 1*body SP media-subtype: the parts are adjacent, with no space between.
    const out: ImapValue[] = [concat(part.parts.map((p) => renderBodyStructure(p, extended))), subtype];
    // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]
    if (extended) out.push(params(part.contentType.params), disposition(part.disposition), language(part.language), part.location);
    return out;
  }
  const type = part.contentType.type.toUpperCase();
  const out: ImapValue[] = [
    type,
    subtype,
    params(part.contentType.params),
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
    out.push(renderEnvelope(enclosed.envelope), renderBodyStructure(enclosed.root, extended), part.bodyLines);
  }
  // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]
  if (extended) out.push(part.md5, disposition(part.disposition), language(part.language), part.location);
  return out;
}

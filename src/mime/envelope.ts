/**
 * The RFC 3501 §7.4.2 ENVELOPE of a message, from its header fields: raw strings, first occurrence
 * of each field, absent fields NIL (present but empty ones ""), and sender/reply-to defaulting to from.
 */
import { firstValues, type RawField } from './header.js';
import { parseAddressList } from './address.js';
import type { Envelope } from './types.js';

const ENVELOPE_FIELDS: ReadonlySet<string> = new Set([
  'date',
  'subject',
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'in-reply-to',
  'message-id',
]);

// RFC 3501 §7.4.2: absent Date/Subject/In-Reply-To/Message-ID are NIL, "present but empty" ones
// are the empty string — clients tell "no subject line" from "blank subject" by it.
function presence(value: string | undefined): string | null {
  return value === undefined ? null : value;
}

export function buildEnvelope(raw: Buffer, fields: RawField[]): Envelope {
  const v = firstValues(raw, fields, ENVELOPE_FIELDS);
  const from = parseAddressList(v.get('from'));
  return {
    date: presence(v.get('date')),
    subject: presence(v.get('subject')),
    from,
    // RFC 3501 §7.4.2: "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or are
    // present but empty, the server sets the corresponding member of the envelope to be the same
    // value as the from member".
    sender: parseAddressList(v.get('sender')) ?? from,
    replyTo: parseAddressList(v.get('reply-to')) ?? from,
    to: parseAddressList(v.get('to')),
    cc: parseAddressList(v.get('cc')),
    bcc: parseAddressList(v.get('bcc')),
    inReplyTo: presence(v.get('in-reply-to')),
    messageId: presence(v.get('message-id')),
  };
}

export const EMPTY_ENVELOPE: Envelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

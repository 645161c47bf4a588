/**
 * The RFC 3501 §7.4.2 ENVELOPE of a message, from its header fields: raw strings, first occurrence
 * of each field, absent or empty fields NIL, and sender/reply-to defaulting to from.
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

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

export function buildEnvelope(raw: Buffer, fields: RawField[]): Envelope {
  const v = firstValues(raw, fields, ENVELOPE_FIELDS);
  const from = parseAddressList(v.get('from'));
  return {
    date: nonEmpty(v.get('date')),
    subject: nonEmpty(v.get('subject')),
    from,
    // RFC 3501 §7.4.2: "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or are
    // present but empty, the server sets the corresponding member of the envelope to be the same
    // value as the from member".
    sender: parseAddressList(v.get('sender')) ?? from,
    replyTo: parseAddressList(v.get('reply-to')) ?? from,
    to: parseAddressList(v.get('to')),
    cc: parseAddressList(v.get('cc')),
    bcc: parseAddressList(v.get('bcc')),
    inReplyTo: nonEmpty(v.get('in-reply-to')),
    messageId: nonEmpty(v.get('message-id')),
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

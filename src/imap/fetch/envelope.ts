/** FETCH ENVELOPE (RFC 3501 §7.4.2): the stored envelope as a parenthesised list. */
import type { Address, Envelope } from '../../mime/types.js';
import type { ImapValue } from '../wire/types.js';

function addresses(list: Address[] | null): ImapValue {
  if (!list || list.length === 0) return null;
  return list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}

export function renderEnvelope(env: Envelope): ImapValue {
  return [
    env.date,
    env.subject,
    addresses(env.from),
    addresses(env.sender),
    addresses(env.replyTo),
    addresses(env.to),
    addresses(env.cc),
    addresses(env.bcc),
    env.inReplyTo,
    env.messageId,
  ];
}

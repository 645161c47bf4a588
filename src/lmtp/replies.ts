/**
 * The one place where LMTP reply codes are chosen: delivery failures (src/delivery/errors.ts)
 * and the server's own refusals become a reply code and an RFC 3463 enhanced status code.
 *
 * smtp-server derives enhanced codes from the reply code alone (452 is always 4.2.2, 552 always
 * 5.2.2), which cannot say "disk full" (452 4.3.1) or "message too big" from DATA (552 5.3.4).
 * So our replies carry their enhanced code at the start of the text, and the connection class in
 * protocol.ts sends such a text as it is.
 */
import type { DeliveryFailure, DeliveryFailureKind } from '../delivery/types.js';

export interface LmtpReply {
  code: number;
  /** RFC 3463 class.subject.detail. */
  enhanced: string;
  text: string;
}

const FAILURE_REPLIES: Record<DeliveryFailureKind, { code: number; enhanced: string }> = {
  nouser: { code: 550, enhanced: '5.1.1' },
  badaddress: { code: 553, enhanced: '5.1.3' },
  toobig: { code: 552, enhanced: '5.3.4' },
  badcontent: { code: 554, enhanced: '5.6.0' },
  noperm: { code: 550, enhanced: '5.2.1' },
  rejected: { code: 550, enhanced: '5.7.1' }, // RFC 5429 §2.1.2
  deferred: { code: 450, enhanced: '4.7.1' },
  overquota: { code: 452, enhanced: '4.2.2' },
  diskfull: { code: 452, enhanced: '4.3.1' },
  tempfail: { code: 451, enhanced: '4.3.0' },
};

export function failureReply(failure: DeliveryFailure): LmtpReply {
  return { ...FAILURE_REPLIES[failure.kind], text: failure.message };
}

/** Replies of the LMTP server itself. */
export const REPLIES = {
  delivered: (address: string): LmtpReply => ({ code: 250, enhanced: '2.0.0', text: `<${address}> Saved` }),
  discarded: (address: string): LmtpReply => ({ code: 250, enhanced: '2.0.0', text: `<${address}> Discarded by a filter` }),
  unknownParameter: (command: 'MAIL FROM' | 'RCPT TO', name: string): LmtpReply => ({
    code: 555,
    enhanced: '5.5.4',
    text: `${command} parameter ${name} not supported`,
  }),
  badParameter: (name: string): LmtpReply => ({ code: 501, enhanced: '5.5.4', text: `Bad ${name} parameter value` }),
  badSender: (why: string): LmtpReply => ({ code: 553, enhanced: '5.1.7', text: why }),
  /**
   * smtp-server keeps one entry per address, so a repeated RCPT would get a 250 but no reply of its
   * own after DATA (RFC 2033 §4.2 wants one per accepted RCPT): refuse it, the MTA sends it again.
   */
  duplicateRecipient: (address: string): LmtpReply => ({
    code: 452,
    enhanced: '4.5.0',
    text: `<${address}> given twice; send it in another transaction`,
  }),
  tooManyConnections: (): LmtpReply => ({ code: 421, enhanced: '4.3.2', text: 'Too many connections, try again later' }),
  addressNotAllowed: (): LmtpReply => ({ code: 554, enhanced: '5.7.1', text: 'LMTP is not open to your address' }),
} as const;

/** "4.3.1 Mail system full": the text smtp-server is given (protocol.ts sends it unchanged). */
export function replyText(reply: LmtpReply): string {
  return `${reply.enhanced} ${reply.text}`;
}

/** A whole reply line, for the server's own writes outside smtp-server (before a session exists). */
export function replyLine(reply: LmtpReply): string {
  return `${reply.code} ${replyText(reply)}\r\n`;
}

/** What smtp-server's handler callbacks take: an Error with `responseCode`. */
export function replyError(reply: LmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(replyText(reply)), { responseCode: reply.code });
}

/** An enhanced status code at the start of a reply text. */
export const ENHANCED_TEXT = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * vacation (RFC 5230): whether a message may be answered at all — the rules that need no memory
 * (§4.5, §4.6 and RFC 3834 §2) — and the action the delivery side carries out (it keeps the
 * memory of whom it answered, by handle, for :days).
 *
 * Not answered: the null sender and the usual robot senders (MAILER-DAEMON, owner-*, *-request,
 * LISTSERV, majordomo); mail with Auto-Submitted other than "no"; Precedence bulk, junk or list;
 * mailing-list mail (any List-* field of RFC 2369/RFC 2919); mail whose To, Cc, Bcc or Resent-*
 * name none of the user's addresses; mail from the user's own address.
 */
import { createHash } from 'node:crypto';
import { decodeHeaderText } from '../mime/index.js';
import type { SieveAction } from './types.js';
import { MessageView, splitEnvelopeAddress } from './message.js';

const LIST_FIELDS = ['list-id', 'list-help', 'list-subscribe', 'list-unsubscribe', 'list-post', 'list-owner', 'list-archive'];
const RECIPIENT_FIELDS = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'];
const ROBOT_SENDER = /^(mailer-daemon|listserv|majordomo|owner-.*|.*-request)$/i;

export interface VacationRequest {
  reason: string;
  days?: number;
  seconds?: number;
  subject?: string;
  from?: string;
  addresses: string[];
  mime: boolean;
  handle?: string;
}

/** An address compared as mail systems do: domain case-insensitive, and (as Dovecot) the local part too. */
function normalise(addr: string): string {
  return addr.trim().replace(/^<|>$/g, '').toLowerCase();
}

function withoutDetail(addr: string, separator: string): string {
  const { localpart, domain } = splitEnvelopeAddress(addr);
  const at = separator === '' ? -1 : localpart.indexOf(separator);
  return at < 0 ? addr : `${localpart.slice(0, at)}@${domain}`;
}

/** Why this message must not be answered, or null when it may be. */
export function vacationRefusal(msg: MessageView, envelopeFrom: string, own: string[], separator: string): string | null {
  if (envelopeFrom === '') return 'the sender is the null sender';
  const { localpart } = splitEnvelopeAddress(envelopeFrom);
  if (ROBOT_SENDER.test(localpart)) return 'the sender is a robot address';
  const autoSubmitted = msg.raw('auto-submitted')[0];
  if (autoSubmitted !== undefined && autoSubmitted.split(';')[0]!.trim().toLowerCase() !== 'no') return 'the message is auto-submitted';
  const precedence = msg.raw('precedence')[0]?.trim().toLowerCase();
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list') return `the message has Precedence: ${precedence}`;
  if (LIST_FIELDS.some((f) => msg.has(f))) return 'the message comes from a mailing list';
  const mine = new Set<string>();
  for (const a of own) {
    mine.add(normalise(a));
    mine.add(normalise(withoutDetail(a, separator)));
  }
  if (mine.has(normalise(envelopeFrom)) || mine.has(normalise(withoutDetail(envelopeFrom, separator)))) return 'the sender is the user';
  const addressed = RECIPIENT_FIELDS.some((f) =>
    msg.addresses(f).some((a) => mine.has(normalise(a.all)) || mine.has(normalise(withoutDetail(a.all, separator)))),
  );
  if (!addressed) return 'none of the user\'s addresses is in To, Cc or Bcc';
  return null;
}

export function vacationAction(req: VacationRequest, msg: MessageView, envelopeFrom: string): SieveAction {
  // RFC 5230 §4.1: at least one day; RFC 6131 :seconds may be 0 (answer every time).
  const seconds = req.seconds !== undefined ? Math.max(0, req.seconds) : Math.max(1, req.days ?? 7) * 86_400;
  const original = msg.raw('subject')[0];
  const subject = req.subject ?? (original !== undefined ? `Auto: ${decodeHeaderText(original).trim()}` : 'Automated reply');
  // §4.2: without :handle, the same reply (subject, from, mime, reason) is the same handle.
  const handle =
    req.handle ??
    createHash('sha256')
      .update(JSON.stringify([req.subject ?? null, req.from ?? null, req.mime, req.reason]))
      .digest('hex')
      .slice(0, 32);
  const messageId = msg.raw('message-id')[0]?.trim();
  return {
    type: 'vacation',
    to: envelopeFrom,
    handle,
    seconds,
    subject,
    ...(req.from !== undefined ? { from: req.from } : {}),
    reason: req.reason,
    mime: req.mime,
    ...(messageId ? { inReplyTo: messageId } : {}),
  };
}

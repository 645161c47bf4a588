/**
 * What SORT and THREAD need to know about one message, taken from its header once (at APPEND, or
 * the first time a store is asked) so that sorting a large mailbox never re-reads messages.
 *
 * Every string key is already in its i;unicode-casemap form (collation.ts): compare with
 * compareCasemap, test equality with ===. Values follow one rule for repeated header fields — the
 * first occurrence counts, as in ENVELOPE (docs/addresses.md).
 */
import type { Address, MessageStructure } from './types.js';
import { baseSubject } from './base-subject.js';
import { casemapKey } from './collation.js';
import { parseSentDate } from './date.js';
import { firstMessageId, parseMessageIds } from './message-id.js';
import { fieldValue, scanFields } from './header.js';

/** The sort and thread keys of one message; plain JSON data, so any store can keep it. */
export interface MessageSortKeys {
  /** RFC 5256 §2.2 sent date (UTC milliseconds), or null when the Date: header is missing or unreadable. */
  sentDate: number | null;
  /** RFC 5256 §2.1 base subject, casemapped. */
  subject: string;
  /** Base-subject extraction removed a reply or forward marker (THREAD REFERENCES step 5). */
  replyOrForward: boolean;
  /** Casemapped addr-mailbox of the first From / To / Cc address (RFC 5256 FROM, TO, CC). */
  from: string;
  to: string;
  cc: string;
  /** Casemapped RFC 5957 §3 display value of the first From / To address (DISPLAYFROM, DISPLAYTO). */
  displayFrom: string;
  displayTo: string;
  /** The normalised Message-ID (message-id.ts), or null when there is no valid one. */
  messageId: string | null;
  /**
   * The message's references, oldest first, its parent last: the References: IDs, or else the first
   * valid In-Reply-To: ID (RFC 5256 §4 REFERENCES). At most MAX_THREAD_REFERENCES.
   */
  references: string[];
}

/**
 * References kept per message: the first (the thread's root) and the most recent ones. RFC 5322
 * §3.6.4 expects long lists to be trimmed like this anyway; the bound keeps a hostile header of
 * 100,000 IDs from costing memory in every sort cache.
 */
export const MAX_THREAD_REFERENCES = 1000;

/** Version of the derivation: a store that persists keys recomputes them when this changes. */
export const SORT_KEYS_VERSION = 1;

/** The first real address of a list (group markers skipped), or undefined. */
function firstAddress(list: Address[] | null): Address | undefined {
  return list?.find((a) => a.host !== null);
}

/** RFC 5957 §3: the decoded display name if not empty, else mailbox@host, else mailbox, else "". */
function displayValue(a: Address | undefined, decode: (text: string) => string): string {
  if (!a) return '';
  if (a.name !== null) {
    const name = decode(a.name).trim();
    if (name !== '') return name;
  }
  if (a.mailbox && a.host) return `${a.mailbox}@${a.host}`;
  return a.mailbox ?? '';
}

function trimReferences(ids: string[]): string[] {
  if (ids.length <= MAX_THREAD_REFERENCES) return ids;
  return [ids[0]!, ...ids.slice(ids.length - (MAX_THREAD_REFERENCES - 1))];
}

/**
 * Computes the keys from the raw message and its parsed structure. `decode` turns RFC 2047
 * encoded-words into text (mime/index.ts passes libmime's decoder).
 */
export function computeSortKeys(raw: Buffer, structure: MessageStructure, decode: (text: string) => string): MessageSortKeys {
  const env = structure.envelope;
  const base = baseSubject(env.subject ?? '', decode);
  let referencesValue: string | undefined;
  for (const f of scanFields(raw, 0, Math.min(structure.root.bodyStart, raw.length))) {
    if (f.name.length === 10 && f.name.toLowerCase() === 'references') {
      referencesValue = fieldValue(raw, f);
      break;
    }
  }
  let references = trimReferences(parseMessageIds(referencesValue));
  if (references.length === 0) {
    const parent = firstMessageId(env.inReplyTo);
    if (parent !== null) references = [parent];
  }
  const fromAddress = firstAddress(env.from);
  const toAddress = firstAddress(env.to);
  return {
    sentDate: parseSentDate(env.date),
    subject: casemapKey(base.subject),
    replyOrForward: base.replyOrForward,
    from: casemapKey(fromAddress?.mailbox ?? ''),
    to: casemapKey(toAddress?.mailbox ?? ''),
    cc: casemapKey(firstAddress(env.cc)?.mailbox ?? ''),
    displayFrom: casemapKey(displayValue(fromAddress, decode)),
    displayTo: casemapKey(displayValue(toAddress, decode)),
    messageId: firstMessageId(env.messageId),
    references,
  };
}

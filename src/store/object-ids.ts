/**
 * RFC 8474 EMAILIDs of the built-in stores are emailIdOf(sha256) (types.ts): a search for one
 * turns back into the range of digests it stands for, which the stores' unique index on the
 * digest finds directly.
 */
import { createHash } from 'node:crypto';

/**
 * The SHA-256 digests an EMAILID stands for, as hex bounds [lower, upper) — upper absent when the
 * prefix is all ones — or null when the id is not one emailIdOf() makes. Only validated hex goes
 * into SQL text.
 */
export function emailIdDigestRange(id: string): { lower: string; upper?: string } | null {
  const m = /^M([0-9a-f]{24})$/.exec(id);
  if (!m) return null;
  const bytes = Buffer.from(m[1]!, 'hex');
  const next = Buffer.from(bytes);
  let i = next.length - 1;
  while (i >= 0 && next[i] === 0xff) next[i--] = 0;
  if (i < 0) return { lower: m[1]! };
  next[i]! += 1;
  return { lower: m[1]!, upper: next.toString('hex') };
}


/**
 * RFC 8474 §4 MAILBOXID: "F" and 24 hex digits of the SHA-256 of the store's mailbox id and its
 * UIDVALIDITY. The store id survives RENAME and is never given to another mailbox (every built-in
 * store allocates ids that are never reused), so the MAILBOXID is kept by RENAME and changes
 * exactly when the mailbox is a new one for RFC 3501 — including when its UIDVALIDITY changes
 * (§4: the same MAILBOXID only for the same name and UIDVALIDITY). Hashing also makes any store id
 * (a shared mailbox's "owner/id" too) fit the objectid syntax.
 */
export function mailboxObjectId(mailboxId: string, uidValidity: number): string {
  return `F${createHash('sha256').update(`${mailboxId}\u0000${uidValidity}`).digest('hex').slice(0, 24)}`;
}

/**
 * RFC 8474 §5.2 THREADID: "T" and 24 hex digits of the SHA-256 of the thread's root Message-ID —
 * the first (oldest) of the message's references (References:, or else In-Reply-To:), or its own
 * Message-ID when it refers to nothing. A reply and the message it answers then share the id in
 * every mailbox, it depends on the content alone (so messages with one EMAILID share it, and it
 * never changes once reported, §5.2), and no lookup across mailboxes is needed. RFC 5322 §3.6.4
 * keeps the first reference when a long References: is shortened, which is what makes this work.
 * A message with neither a Message-ID nor references cannot be related to anything: it is a
 * thread of its own, "T" and the hex digits of its EMAILID (threadIdOfUnrelated) — rather than
 * NIL, which §5.2 reserves for servers without THREADID and which imapflow cannot parse.
 * Messages linked only by subject (THREAD=ORDEREDSUBJECT) are not joined.
 */
export function threadIdOf(keys: { messageId: string | null; references: readonly string[] }): string | null {
  const root = keys.references[0] ?? keys.messageId;
  if (!root) return null;
  return `T${createHash('sha256').update(root).digest('hex').slice(0, 24)}`;
}

/** THREADID of a message threadIdOf() cannot relate (null), from its EMAILID. */
export function threadIdOfUnrelated(emailId: string): string {
  return `T${emailId.slice(1)}`;
}

/** The EMAILID whose unrelated message has this THREADID, or null when it cannot be one. */
export function emailIdOfUnrelatedThread(threadId: string): string | null {
  return /^T[0-9a-f]{24}$/.test(threadId) ? `M${threadId.slice(1)}` : null;
}

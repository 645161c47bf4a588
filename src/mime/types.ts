/**
 * A message's MIME structure with byte offsets into its raw bytes, computed once (at APPEND time)
 * and stored, so FETCH ENVELOPE / BODYSTRUCTURE / BODY[section] never re-parse the message.
 * Plain JSON-serialisable data (no Buffers, no Dates) so any store can persist it as JSON.
 *
 * Header values here are raw (unfolded but not RFC 2047-decoded), which is what ENVELOPE and
 * BODYSTRUCTURE must return; decoded text for SEARCH comes from the helpers in ./index.ts.
 */

export interface Address {
  /** Display name, raw (may contain RFC 2047 encoded-words), or null. */
  name: string | null;
  /** RFC 3501 source route; always null in practice. */
  adl: string | null;
  /** Local part; for a group start the group name, for a group end null. */
  mailbox: string | null;
  /** Domain; null marks group start/end (RFC 3501 §7.4.2). */
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface ContentType {
  /** As written, e.g. "text" (defaults "text"/"plain" per RFC 2045 §5.2). */
  type: string;
  subtype: string;
  /** Parameters in order of appearance, RFC 2231 continuations joined; names lower-cased. */
  params: Array<[string, string]>;
}

export interface Disposition {
  value: string;
  params: Array<[string, string]>;
}

export interface MimePart {
  /** Offset of the first header byte of this part. */
  headerStart: number;
  /** Offset of the first body byte (just after the blank line ending the header, or = headerStart + header length when no blank line). */
  bodyStart: number;
  /** Offset just past the last body byte (before the CRLF that precedes the next boundary). */
  bodyEnd: number;
  /** Number of lines in the body (BODYSTRUCTURE body-fld-lines for text/* and message/rfc822). */
  bodyLines: number;
  contentType: ContentType;
  /** Content-Transfer-Encoding as written, default "7BIT". */
  encoding: string;
  id: string | null;
  description: string | null;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  /** Children of a multipart/*. */
  parts?: MimePart[];
  /** For message/rfc822 (and message/global): the envelope and root part of the enclosed message. */
  message?: { envelope: Envelope; root: MimePart };
}

export interface MessageStructure {
  /** Total size in octets. */
  size: number;
  envelope: Envelope;
  root: MimePart;
}

/**
 * RFC 8970 PREVIEW text of a message: the first text part a reader would see — text/plain
 * preferred, else text/html reduced to its text — transfer-decoded, converted from its charset to
 * Unicode, white space (line ends included) collapsed to single spaces, and cut to at most
 * PREVIEW_MAX_CHARS characters (RFC 8970 §3.3: SHOULD 200, MUST NOT exceed 256; we take 200).
 *
 * Which part: the first text/plain leaf in document order that is not an attachment
 * (Content-Disposition: attachment), looking into multipart/alternative, mixed and related but not
 * into enclosed messages (a forwarded message/rfc822 is not what the message says). When there is
 * none, the first such text/html leaf. Without either the preview is "" — RFC 8970 §3.2's "no
 * meaningful preview", which clients are told not to ask for again.
 *
 * Only the leading bytes of the part are decoded (PREVIEW_SCAN_BYTES), so a 50 MB text part costs
 * no more than a short one. Quoted replies ("> ..." lines) are kept: dropping them would make the
 * preview of a one-line reply look empty.
 */
import { htmlToText } from './body-text.js';
import { decodeCharset } from './charset.js';
import { decodeTransfer } from './transfer.js';
import type { MessageStructure, MimePart } from './types.js';

/** RFC 8970 §3.3: the SHOULD limit, in characters (code points). */
export const PREVIEW_MAX_CHARS = 200;
/** Encoded bytes of a part decoded for its preview; enough for 200 characters after markup. */
const PREVIEW_SCAN_BYTES = 64 * 1024;

function isAttachment(part: MimePart): boolean {
  return part.disposition?.value.toLowerCase() === 'attachment';
}

function firstLeaf(part: MimePart, subtype: 'plain' | 'html'): MimePart | null {
  if (part.parts) {
    for (const child of part.parts) {
      const found = firstLeaf(child, subtype);
      if (found) return found;
    }
    return null;
  }
  if (part.message || isAttachment(part)) return null;
  const type = part.contentType;
  return type.type.toLowerCase() === 'text' && type.subtype.toLowerCase() === subtype ? part : null;
}

const WHITE = /[\s\p{Z}\p{Cc}]+/gu;

/**
 * Collapses white space and cuts to `max` code points without splitting a surrogate pair.
 *
 * Only the start of `text` can reach the preview, so a leading slice is flattened first and the
 * whole text only when the slice is too short: flattening and cutting 64 KiB of text was 3 ms per
 * delivered message, the largest item of an LMTP delivery's event-loop time (bench/RESULTS.md).
 * The result is the same either way: white space is collapsed run by run, so the flattened slice
 * is the start of the flattened text but for its last code point (a run or a surrogate pair the
 * slice cuts), and trimming the end can only remove a single space; with more than max + 1 code
 * points in hand (max + 3, for margin), the first `max` and whether more follow are certain
 * (test/unit/preview-text.test.ts compares with the whole-text rule).
 */
export function previewOfText(text: string, max = PREVIEW_MAX_CHARS): string {
  for (let n = Math.max(64, max * 4); n < text.length; n *= 8) {
    const flat = text.slice(0, n).replace(WHITE, ' ').trimStart();
    if (offsetAfter(flat, max + 3) < flat.length) return cut(flat, max);
  }
  return cut(text.replace(WHITE, ' ').trim(), max);
}

/** `flat` cut to `max` code points (and trimmed at the cut), or `flat` itself when it is no longer. */
function cut(flat: string, max: number): string {
  const end = offsetAfter(flat, max);
  return end >= flat.length ? flat : flat.slice(0, end).trimEnd();
}

/** The UTF-16 offset just after the first `count` code points of `s` (s.length when it has fewer). */
function offsetAfter(s: string, count: number): number {
  let at = 0;
  for (let i = 0; i < count && at < s.length; i++) {
    const c = s.charCodeAt(at);
    const pair = c >= 0xd800 && c <= 0xdbff && at + 1 < s.length && (s.charCodeAt(at + 1) & 0xfc00) === 0xdc00;
    at += pair ? 2 : 1;
  }
  return at;
}

function previewPart(structure: MessageStructure): MimePart | null {
  return firstLeaf(structure.root, 'plain') ?? firstLeaf(structure.root, 'html');
}

/**
 * How many leading bytes of the message messagePreview() looks at: a store computing a preview
 * later (for a message kept before previews were) reads only these, not a whole large message.
 */
export function previewBytesNeeded(structure: MessageStructure): number {
  const part = previewPart(structure);
  return part ? Math.min(part.bodyEnd, part.bodyStart + PREVIEW_SCAN_BYTES) : 0;
}

/** `raw` may be the whole message or just its first previewBytesNeeded() bytes. */
export function messagePreview(raw: Buffer, structure: MessageStructure): string {
  try {
    const part = previewPart(structure);
    if (!part) return '';
    const start = Math.max(0, Math.min(part.bodyStart, raw.length));
    const end = Math.max(start, Math.min(part.bodyEnd, raw.length, start + PREVIEW_SCAN_BYTES));
    const bytes = decodeTransfer(raw.subarray(start, end), part.encoding);
    const charset = part.contentType.params.find(([k]) => k === 'charset')?.[1];
    let text = decodeCharset(bytes, charset);
    if (part.contentType.subtype.toLowerCase() === 'html') text = htmlToText(text);
    // A cut inside a multi-byte sequence decodes to U+FFFD at the end: drop it.
    if (end < part.bodyEnd) text = text.replace(/\ufffd+$/u, '');
    return previewOfText(text);
  } catch {
    // A structure that does not fit these bytes must not fail an APPEND or a FETCH.
    return '';
  }
}

/**
 * The searchable text of a message (SEARCH BODY / TEXT): every text/* leaf, including those of
 * enclosed messages, transfer-decoded and converted from its charset, joined by newlines.
 *
 * HTML parts are reduced to their text: tags, comments, <script> and <style> are dropped and the
 * common entities decoded, so searching for "table" does not match every HTML mail. The result is
 * for matching only, not for display.
 */
import { decodeCharset } from './charset.js';
import { decodeTransfer } from './transfer.js';
import type { MessageStructure, MimePart } from './types.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function codePoint(n: number): string {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : ' ';
}

const ENTITY = /&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi;

function decodeEntities(text: string): string {
  return text.replace(ENTITY, (m, ref: string) => {
    if (ref[0] === '#') {
      return codePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    }
    return ENTITIES[ref.toLowerCase()] ?? m;
  });
}

/**
 * Text of an HTML document for matching. A single forward scan (no backtracking regexes), so
 * hostile input such as "<<<<..." or endless unclosed "<script" costs linear time: every search
 * moves the position forward, and an unclosed construct ends the scan.
 */
export function htmlToText(html: string): string {
  // ASCII-only lower-casing keeps every index the same in both strings.
  const lower = html.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  const out: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt), ' ');
    if (lower.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      if (close < 0) break;
      i = close + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    const raw = /^<(script|style)\b/.exec(lower.slice(lt, lt + 8));
    if (raw) {
      // Script and style content is not text; skip to the matching end tag.
      const close = lower.indexOf(`</${raw[1]}`, gt + 1);
      if (close < 0) break;
      const closeGt = html.indexOf('>', close);
      if (closeGt < 0) break;
      i = closeGt + 1;
      continue;
    }
    i = gt + 1;
  }
  return decodeEntities(out.join(''));
}

function collect(raw: Buffer, part: MimePart, out: string[]): void {
  if (part.parts) {
    for (const child of part.parts) collect(raw, child, out);
    return;
  }
  if (part.message) {
    collect(raw, part.message.root, out);
    return;
  }
  if (part.contentType.type.toLowerCase() !== 'text') return;
  const start = Math.max(0, Math.min(part.bodyStart, raw.length));
  const end = Math.max(start, Math.min(part.bodyEnd, raw.length));
  const bytes = decodeTransfer(raw.subarray(start, end), part.encoding);
  const charset = part.contentType.params.find(([k]) => k === 'charset')?.[1];
  const text = decodeCharset(bytes, charset);
  out.push(part.contentType.subtype.toLowerCase() === 'html' ? htmlToText(text) : text);
}

export function bodyText(raw: Buffer, structure: MessageStructure): string {
  const out: string[] = [];
  try {
    collect(raw, structure.root, out);
  } catch {
    // A structure that does not fit these bytes (a store bug) must not break SEARCH.
  }
  return out.join('\n');
}

/**
 * The strings the `body` test (RFC 5173) searches: :raw, the undecoded body; :content, the decoded
 * content of every MIME part whose type matches (§5.2: "" = every type, "text" = every subtype,
 * "text/html" = exactly that), found recursively through multipart and message/rfc822 parts;
 * :text, the same as :content "text" but with HTML reduced to its text (§5.3 allows it). Only the first maxBodyBytes of the body are looked at.
 * Multipart containers themselves contribute nothing (their preamble and epilogue are not
 * searched; documented in docs/sieve.md).
 */
import { parseMessage } from '../mime/index.js';
import type { MimePart } from '../mime/index.js';
import { decodeTransfer } from '../mime/transfer.js';
import { decodeCharset } from '../mime/charset.js';
import { htmlToText } from '../mime/body-text.js';

function typeMatches(spec: string, type: string, subtype: string): boolean {
  const s = spec.toLowerCase();
  if (s === '') return true;
  const slash = s.indexOf('/');
  if (slash < 0) return s === type;
  if (s.indexOf('/', slash + 1) >= 0) return false;
  return s === `${type}/${subtype}`;
}

function headerWithBlankLine(header: Buffer): Buffer {
  const s = header.toString('latin1', Math.max(0, header.length - 4));
  if (s.endsWith('\r\n\r\n') || s.endsWith('\n\n')) return header;
  if (header.length === 0) return Buffer.from('\r\n');
  return Buffer.concat([header, Buffer.from(s.endsWith('\n') ? '\r\n' : '\r\n\r\n')]);
}

export function bodyStrings(header: Buffer, body: Buffer, transform: 'raw' | 'text' | string[]): string[] {
  if (transform === 'raw') return [body.toString('utf8')];
  const specs = transform === 'text' ? ['text'] : transform;
  const raw = Buffer.concat([headerWithBlankLine(header), body]);
  const structure = parseMessage(raw);
  const out: string[] = [];
  const walk = (part: MimePart, depth: number): void => {
    if (depth > 50) return;
    const type = part.contentType.type.toLowerCase();
    const subtype = part.contentType.subtype.toLowerCase();
    if (part.parts) {
      for (const p of part.parts) walk(p, depth + 1);
      return;
    }
    if (part.message) {
      walk(part.message.root, depth + 1);
      return;
    }
    if (!specs.some((s) => typeMatches(s, type, subtype))) return;
    const content = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
    const charset = part.contentType.params.find(([k]) => k === 'charset')?.[1];
    if (type !== 'text') out.push(content.toString('latin1'));
    else if (transform === 'text' && subtype === 'html') out.push(htmlToText(decodeCharset(content, charset)));
    else out.push(decodeCharset(content, charset));
  };
  walk(structure.root, 0);
  return out;
}

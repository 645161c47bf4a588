/**
 * The searchable text of an address header (SEARCH FROM/TO/CC/BCC): the parsed addresses written
 * back out as `Display Name <local@domain>`, display names decoded (RFC 2047). Comments and
 * folding white space inside an address (`<user (c)@ (c) example.org>`) are gone, so a search for
 * "user@example.org" finds it; a comment that serves as the display name (`user@example.org
 * (Real Name)`) is searchable as the name. Dovecot matches against the same kind of rendering.
 *
 * A header that holds no address at all (`From: "Some Name"`) is searched by its text, comments
 * removed, so nothing a client shows is unsearchable.
 */
import { parseAddressList } from './address.js';
import type { Address } from './types.js';

export type HeaderDecoder = (text: string) => string;

function addressText(a: Address, decode: HeaderDecoder): string {
  if (a.host === null) return a.mailbox === null ? ';' : `${decode(a.mailbox)}:`;
  const spec = a.host === '' ? (a.mailbox ?? '') : `${a.mailbox ?? ''}@${a.host}`;
  if (a.name === null || a.name === '') return spec;
  return `${decode(a.name)} <${spec}>`;
}

/** Removes comments (nested, with quoted-pairs) outside quoted strings, and collapses white space. */
export function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      if (depth === 0) out += c + value[i + 1];
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') {
      depth++;
    } else if (c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
    } else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** The text SEARCH matches for one occurrence of an address header. */
export function addressSearchText(value: string, decode: HeaderDecoder): string {
  const list = parseAddressList(value);
  if (list === null) return decode(withoutComments(value));
  return list.map((a) => addressText(a, decode)).join(', ');
}

/**
 * Address lists (RFC 5322 §3.4, with the obsolete forms of §4.4) turned into RFC 3501 §7.4.2
 * address structures: raw display names (encoded-words are left for the client to decode), quoted
 * strings unquoted, groups as start/end markers. Comments and folding white space never reach a
 * local part or domain; a comment becomes the display name of an address that has no phrase
 * (`user@example.org (Real Name)`), as clients show it and other servers send it.
 *
 * Empty and broken addresses follow one convention (docs/addresses.md): `<>` is an address with
 * an empty mailbox and host; a local part without a domain keeps an empty host; a name with no
 * address at all (`Reply-To: "Some Name"`) is not an address and is left out.
 */
import type { Address } from './types.js';

type Tok =
  | { kind: 'atom'; text: string }
  | { kind: 'quoted'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'special'; text: string }
  | { kind: 'comment'; text: string };

const SPECIALS = '<>@,;:[]"()';

/** Splits a header value into atoms (dots included), quoted strings, domain literals and specials. */
function lex(value: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    const c = value[i]!;
    // The same test as the atom loop below uses to stop: otherwise a character that only one of them
    // calls white space (vertical tab, no-break space) would make an empty atom forever.
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(') {
      let depth = 1;
      let text = '';
      i++;
      while (i < n && depth > 0) {
        const d = value[i]!;
        if (d === '\\' && i + 1 < n) {
          text += value[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')') depth--;
        if (depth > 0) text += d;
        i++;
      }
      toks.push({ kind: 'comment', text });
    } else if (c === '"') {
      let text = '';
      i++;
      while (i < n && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < n) i++;
        text += value[i];
        i++;
      }
      i++;
      toks.push({ kind: 'quoted', text });
    } else if (c === '[') {
      const close = value.indexOf(']', i);
      const stop = close < 0 ? n : close + 1;
      toks.push({ kind: 'literal', text: value.slice(i, stop) });
      i = stop;
    } else if (SPECIALS.includes(c)) {
      toks.push({ kind: 'special', text: c });
      i++;
    } else {
      let j = i;
      while (j < n && !SPECIALS.includes(value[j]!) && !/\s/.test(value[j]!)) j++;
      toks.push({ kind: 'atom', text: value.slice(i, j) });
      i = j;
    }
  }
  return toks;
}

function isSpecial(t: Tok | undefined, text: string): boolean {
  return t !== undefined && t.kind === 'special' && t.text === text;
}

const isWord = (t: Tok): boolean => t.kind !== 'special' && t.kind !== 'comment';

/** A display name or group name: its words joined by single spaces, or null when empty. */
function phrase(toks: Tok[]): string | null {
  const words = toks.filter(isWord).map((t) => t.text);
  const text = words.join(' ').trim();
  return text === '' && !toks.some((t) => t.kind === 'quoted') ? null : text;
}

/**
 * The display name an address without a phrase takes from a comment: the last comment after the
 * address (`user@example.org (Real Name)`), else one before it. Comments inside the address
 * (`user(c)@example.org`) are not names. White space is collapsed; empty comments do not count.
 */
function commentName(toks: Tok[]): string | null {
  const text = (t: Tok | undefined): string | null => {
    if (t?.kind !== 'comment') return null;
    const s = t.text.replace(/\s+/g, ' ').trim();
    return s === '' ? null : s;
  };
  let last = toks.length - 1;
  let trailing: string | null = null;
  for (; last >= 0 && toks[last]!.kind === 'comment'; last--) trailing ??= text(toks[last]);
  if (trailing !== null) return trailing;
  for (let i = 0; i < toks.length && toks[i]!.kind === 'comment'; i++) {
    const s = text(toks[i]);
    if (s !== null) return s;
  }
  return null;
}

/** A local part as it would be written: a quoted string stays quoted unless it is a plain atom. */
function localText(t: Tok): string {
  if (t.kind !== 'quoted') return t.text;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/.test(t.text) && !/^\.|\.$|\.\./.test(t.text)) return t.text;
  return `"${t.text.replace(/(["\\])/g, '\\$1')}"`;
}

function addrSpec(toks: Tok[], name: string | null, adl: string | null): Address | null {
  let at = -1;
  for (let i = toks.length - 1; i >= 0; i--) {
    if (isSpecial(toks[i], '@')) {
      at = i;
      break;
    }
  }
  const localToks = (at < 0 ? toks : toks.slice(0, at)).filter((t) => t.kind !== 'comment' && (t.kind !== 'special' || t.text === '.'));
  const mailbox = localToks.map(localText).join(at < 0 ? ' ' : '');
  const host = at < 0 ? '' : toks.slice(at + 1).filter(isWord).map((t) => t.text).join('');
  return { name, adl, mailbox, host };
}

function mailbox(phraseToks: Tok[], angle: Tok[] | null): Address | null {
  if (angle === null) {
    // No angle brackets: an addr-spec, or a bare local part (`To: root`) — but never a name alone.
    // Quoted strings or several words without "@" are a display name with no address.
    const words = phraseToks.filter((t) => t.kind !== 'comment');
    if (words.length === 0) return null;
    const hasAt = words.some((t) => isSpecial(t, '@'));
    if (!hasAt && (words.length > 1 || words[0]!.kind !== 'atom')) return null;
    return addrSpec(phraseToks, commentName(phraseToks), null);
  }
  // `<>` (the null sender) is kept: an address with an empty mailbox and host (docs/addresses.md).
  const name = phrase(phraseToks) ?? commentName(phraseToks);
  // obs-route: "<@relay1,@relay2:user@host>" — the route is the RFC 3501 "adl".
  const colon = angle.findIndex((t) => isSpecial(t, ':'));
  if (colon < 0) return addrSpec(angle, name, null);
  const route = angle
    .slice(0, colon)
    .map((t) => t.text)
    .join('');
  return addrSpec(angle.slice(colon + 1), name, route === '' ? null : route);
}

/** Parses an address-list header value; null when it holds no address (RFC 3501: NIL). */
export function parseAddressList(value: string | undefined): Address[] | null {
  if (value === undefined) return null;
  const toks = lex(value);
  const out: Address[] = [];
  let buf: Tok[] = [];
  let angle: Tok[] | null = null;
  let inGroup = false;

  const flush = (): void => {
    const a = mailbox(buf, angle);
    if (a) out.push(a);
    buf = [];
    angle = null;
  };

  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (isSpecial(t, '<')) {
      const inner: Tok[] = [];
      i++;
      while (i < toks.length && !isSpecial(toks[i], '>')) inner.push(toks[i++]!);
      if (angle === null) angle = inner;
    } else if (isSpecial(t, ':') && !inGroup && angle === null) {
      // RFC 3501 §7.4.2: group start has the group name as mailbox and NIL host.
      out.push({ name: null, adl: null, mailbox: phrase(buf) ?? '', host: null });
      buf = [];
      inGroup = true;
    } else if (isSpecial(t, ',')) {
      flush();
    } else if (isSpecial(t, ';')) {
      flush();
      if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
    } else if (!isSpecial(t, '>')) {
      buf.push(t);
    }
  }
  flush();
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out.length === 0 ? null : out;
}

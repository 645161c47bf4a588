/**
 * The FETCH attribute list (RFC 3501 §6.4.5, §9 fetch-att) as typed items, plus the RFC 7162
 * MODSEQ item. Macros (ALL, FAST, FULL) are expanded here and may only stand alone.
 */
import { ParseError } from '../wire/args.js';
import type { Token } from '../wire/types.js';
import { formatSection, parseSection, type FetchSection, type Partial } from './section.js';

export type SimpleItem =
  | 'FLAGS'
  | 'UID'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'MODSEQ'
  // RFC 8474 §5.3, RFC 8514 §4.2 (answered only where the store keeps them: render.ts)
  | 'EMAILID'
  | 'THREADID'
  | 'SAVEDATE';

export type FetchItem =
  | { kind: 'simple'; name: SimpleItem }
  | {
      kind: 'section';
      /** False when the fetch sets \Seen (BODY[...], RFC822, RFC822.TEXT). */
      peek: boolean;
      section: FetchSection;
      partial?: Partial;
      /** The item's name in the response, without the partial origin: "BODY[1.MIME]", "RFC822.TEXT". */
      label: string;
    }
  | {
      /** RFC 3516 BINARY[part]<partial> (peek: BINARY.PEEK): the part with its transfer encoding removed. */
      kind: 'binary';
      peek: boolean;
      /** Part numbers; empty for the whole message. */
      path: number[];
      partial?: Partial;
      /** "BINARY[1.2]", without the partial origin. */
      label: string;
    }
  | {
      /** RFC 3516 BINARY.SIZE[part]: the size of what BINARY[part] would send. */
      kind: 'binarySize';
      path: number[];
      label: string;
    }
  | {
      /** RFC 8970 PREVIEW, `lazy` with the (LAZY) modifier: NIL rather than computing it now. */
      kind: 'preview';
      lazy: boolean;
      /**
       * SNIPPET, the same text under the name of its draft (draft-ietf-extra-imap-fetch-preview-00,
       * advertised as SNIPPET=FUZZY by Dovecot 2.3): answered `SNIPPET (FUZZY <text>)`.
       */
      snippet?: boolean;
      /**
       * PREVIEW (FUZZY) or (LAZY=FUZZY): the later drafts' form (advertised as PREVIEW=FUZZY by
       * Dovecot 2.3 and 2.4), answered like SNIPPET with the algorithm named: `PREVIEW (FUZZY <text>)`.
       */
      fuzzy?: boolean;
    };

const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SIMPLE: ReadonlySet<string> = new Set(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE']);

/** RFC822, RFC822.HEADER and RFC822.TEXT are old spellings of body sections (RFC 3501 §6.4.5). */
const RFC822: Record<string, { peek: boolean; section: FetchSection }> = {
  RFC822: { peek: false, section: { path: [], text: 'all' } },
  'RFC822.HEADER': { peek: true, section: { path: [], text: 'header' } },
  'RFC822.TEXT': { peek: false, section: { path: [], text: 'text' } },
};

/** draft-ietf-extra-imap-fetch-preview-00 §3 (and Dovecot): the SNIPPET algorithm and its lazy form. */
const SNIPPET_MODIFIERS: ReadonlySet<string> = new Set(['FUZZY', 'LAZY=FUZZY', 'LAZY']);

const BINARY_ITEMS: ReadonlySet<string> = new Set(['BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

/** RFC 3516 §7 section-binary = "[" [section-part] "]": part numbers only, no HEADER/TEXT/MIME. */
function binaryPath(section: Token[]): number[] {
  if (section.length === 0) return [];
  const first = section[0]!;
  if (section.length > 1 || first.type !== 'atom' || first.section || first.partial || !/^[1-9]\d{0,9}(\.[1-9]\d{0,9})*$/.test(first.value)) {
    throw new ParseError('A BINARY section is part numbers only, as in BINARY[1.2]');
  }
  const path = first.value.split('.').map(Number);
  if (path.some((n) => n > 0xffffffff)) throw new ParseError('Invalid section part number');
  return path;
}

function parseBinaryItem(name: string, token: Token & { type: 'atom' }): FetchItem {
  if (!token.section) throw new ParseError(`${name} needs a section, as in ${name}[1]`);
  const path = binaryPath(token.section);
  const label = `BINARY[${path.join('.')}]`;
  if (name === 'BINARY.SIZE') {
    if (token.partial) throw new ParseError('BINARY.SIZE takes no partial');
    return { kind: 'binarySize', path, label: `BINARY.SIZE[${path.join('.')}]` };
  }
  const item: FetchItem = { kind: 'binary', peek: name === 'BINARY.PEEK', path, label };
  if (token.partial) item.partial = { ...token.partial };
  return item;
}

function parseItem(token: Token): FetchItem {
  if (token.type !== 'atom') throw new ParseError('Invalid fetch attribute');
  const name = token.value.toUpperCase();
  if (BINARY_ITEMS.has(name)) return parseBinaryItem(name, token);
  if (token.section) {
    if (name !== 'BODY' && name !== 'BODY.PEEK') throw new ParseError(`Unknown fetch attribute ${token.value.slice(0, 40)}[...]`);
    const section = parseSection(token.section);
    const item: FetchItem = { kind: 'section', peek: name === 'BODY.PEEK', section, label: `BODY[${formatSection(section)}]` };
    if (token.partial) item.partial = { ...token.partial };
    return item;
  }
  if (token.partial) throw new ParseError('A partial needs a section');
  if (name === 'PREVIEW') return { kind: 'preview', lazy: false };
  if (name === 'SNIPPET') return { kind: 'preview', lazy: false, snippet: true };
  if (SIMPLE.has(name)) return { kind: 'simple', name: name as SimpleItem };
  const old = RFC822[name];
  if (old) return { kind: 'section', peek: old.peek, section: old.section, label: name };
  throw new ParseError(`Unknown fetch attribute ${token.value.slice(0, 40)}`);
}

function sameItem(a: FetchItem, b: FetchItem): boolean {
  if (a.kind === 'simple') return b.kind === 'simple' && a.name === b.name;
  if (a.kind === 'preview' || b.kind === 'preview') return a.kind === 'preview' && b.kind === 'preview' && a.lazy === b.lazy && a.snippet === b.snippet && a.fuzzy === b.fuzzy;
  if (a.kind === 'binarySize' || b.kind === 'binarySize') return a.kind === b.kind && a.label === b.label;
  if (b.kind === 'simple' || a.kind !== b.kind) return false;
  return a.label === b.label && a.peek === b.peek && a.partial?.offset === b.partial?.offset && a.partial?.length === b.partial?.length;
}

/** Parses the attribute argument of FETCH: a macro, one attribute, or a parenthesised list. */
export function parseFetchItems(token: Token): FetchItem[] {
  let items: FetchItem[];
  if (token.type === 'list') {
    if (token.items.length === 0) throw new ParseError('Empty fetch attribute list');
    items = [];
    for (let i = 0; i < token.items.length; i++) {
      const item = parseItem(token.items[i]!);
      const next = token.items[i + 1];
      // RFC 8970 §6: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"], the only modifier LAZY.
      // The draft's SNIPPET takes a list of algorithms (FUZZY, the only one) and LAZY=FUZZY; like
      // Dovecot, plain LAZY is read as LAZY=FUZZY there too. PREVIEW=FUZZY (the drafts between)
      // is PREVIEW with those algorithm words: the answer then names the algorithm, as Dovecot's.
      if (item.kind === 'preview' && next?.type === 'list') {
        const what = item.snippet ? 'SNIPPET' : 'PREVIEW';
        if (next.items.length === 0) throw new ParseError(`Empty ${what} modifier list`);
        for (const mod of next.items) {
          const word = mod.type === 'atom' ? mod.value.toUpperCase() : '';
          if (!SNIPPET_MODIFIERS.has(word)) {
            throw new ParseError(item.snippet ? 'The SNIPPET algorithm is FUZZY (or LAZY=FUZZY)' : 'The PREVIEW modifier is LAZY (or FUZZY, LAZY=FUZZY)');
          }
          if (word.startsWith('LAZY')) item.lazy = true;
          if (!item.snippet && word !== 'LAZY') item.fuzzy = true;
        }
        i++;
      }
      items.push(item);
    }
  } else {
    const macro = token.type === 'atom' && !token.section ? MACROS[token.value.toUpperCase()] : undefined;
    items = macro ? macro.map((name): FetchItem => ({ kind: 'simple', name })) : [parseItem(token)];
  }
  const unique: FetchItem[] = [];
  for (const item of items) {
    // PREVIEW asked twice, with and without LAZY: one item, computed (RFC 8970 §4.1). SNIPPET and
    // PREVIEW in one FETCH are two items (two names in the response); PREVIEW in both forms is one
    // item in the form asked first.
    const preview = item.kind === 'preview' ? unique.find((u) => u.kind === 'preview' && u.snippet === item.snippet) : undefined;
    if (preview?.kind === 'preview' && item.kind === 'preview') preview.lazy &&= item.lazy;
    else if (!unique.some((u) => sameItem(u, item))) unique.push(item);
  }
  return unique;
}

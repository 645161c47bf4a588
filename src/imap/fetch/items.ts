/**
 * The FETCH attribute list (RFC 3501 §6.4.5, §9 fetch-att) as typed items, plus the RFC 7162
 * MODSEQ item. Macros (ALL, FAST, FULL) are expanded here and may only stand alone.
 */
import { ParseError } from '../wire/args.js';
import type { Token } from '../wire/types.js';
import { formatSection, parseSection, type FetchSection, type Partial } from './section.js';

export type SimpleItem = 'FLAGS' | 'UID' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'MODSEQ';

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
    };

const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SIMPLE: ReadonlySet<string> = new Set(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'MODSEQ']);

/** RFC822, RFC822.HEADER and RFC822.TEXT are old spellings of body sections (RFC 3501 §6.4.5). */
const RFC822: Record<string, { peek: boolean; section: FetchSection }> = {
  RFC822: { peek: false, section: { path: [], text: 'all' } },
  'RFC822.HEADER': { peek: true, section: { path: [], text: 'header' } },
  'RFC822.TEXT': { peek: false, section: { path: [], text: 'text' } },
};

function parseItem(token: Token): FetchItem {
  if (token.type !== 'atom') throw new ParseError('Invalid fetch attribute');
  const name = token.value.toUpperCase();
  if (token.section) {
    if (name !== 'BODY' && name !== 'BODY.PEEK') throw new ParseError(`Unknown fetch attribute ${token.value.slice(0, 40)}[...]`);
    const section = parseSection(token.section);
    const item: FetchItem = { kind: 'section', peek: name === 'BODY.PEEK', section, label: `BODY[${formatSection(section)}]` };
    if (token.partial) item.partial = { ...token.partial };
    return item;
  }
  if (token.partial) throw new ParseError('A partial needs a section');
  if (SIMPLE.has(name)) return { kind: 'simple', name: name as SimpleItem };
  const old = RFC822[name];
  if (old) return { kind: 'section', peek: old.peek, section: old.section, label: name };
  throw new ParseError(`Unknown fetch attribute ${token.value.slice(0, 40)}`);
}

function sameItem(a: FetchItem, b: FetchItem): boolean {
  if (a.kind === 'simple') return b.kind === 'simple' && a.name === b.name;
  if (b.kind === 'simple') return false;
  return a.label === b.label && a.peek === b.peek && a.partial?.offset === b.partial?.offset && a.partial?.length === b.partial?.length;
}

/** Parses the attribute argument of FETCH: a macro, one attribute, or a parenthesised list. */
export function parseFetchItems(token: Token): FetchItem[] {
  let items: FetchItem[];
  if (token.type === 'list') {
    if (token.items.length === 0) throw new ParseError('Empty fetch attribute list');
    items = token.items.map(parseItem);
  } else {
    const macro = token.type === 'atom' && !token.section ? MACROS[token.value.toUpperCase()] : undefined;
    items = macro ? macro.map((name): FetchItem => ({ kind: 'simple', name })) : [parseItem(token)];
  }
  const unique: FetchItem[] = [];
  for (const item of items) if (!unique.some((u) => sameItem(u, item))) unique.push(item);
  return unique;
}

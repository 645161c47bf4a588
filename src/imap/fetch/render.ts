/**
 * Builds the data items of one `* n FETCH (...)` response from the requested items and the
 * message's lazily loaded data.
 */
import { atom, literal, type ImapValue } from '../wire/types.js';
import { formatInternalDate } from '../wire/datetime.js';
import type { Flag, MessageExtras } from '../../store/types.js';
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../../store/errors.js';
import type { FetchItem } from './items.js';
import type { MessageSource } from './message-source.js';
import { renderEnvelope } from './envelope.js';
import { renderBodyStructure } from './bodystructure.js';
import { applyPartial, filterHeaderFields, sectionTarget, slicePartial } from './section.js';
import { keptEncoding } from '../wire/encoder.js';
import { RecentCache } from '../../util/recent-map.js';
import { binarySize, binaryValue } from './binary.js';

/** Section data larger than this is streamed from the store instead of read into memory. */
export const STREAM_THRESHOLD = 64 * 1024;

export interface RenderOptions {
  /** A message's flags as this session knows them (\Recent included), asked only when FLAGS goes out. */
  flags: (uid: number) => Flag[];
  /** MODSEQ to report, when known without a record (e.g. just changed by this FETCH). */
  modseq?: number;
  /** Items to put first / last that the client did not ask for (UID for UID FETCH, FLAGS after \Seen...). */
  prepend: FetchItem[];
  append: FetchItem[];
  /** The session enabled UTF8=ACCEPT or IMAP4rev2: 8-bit parameter values may go out as they are. */
  utf8?: boolean;
  /** RFC 8474 EMAILID and RFC 8970 preview, when the items ask for them (fetch.ts loads them per batch). */
  extras?: MessageExtras;
  /** RFC 8474 THREADID (null: NIL), when asked for. */
  threadId?: string | null;
}

/**
 * A message APPENDed as literal8 (RFC 3516 §4.4) may hold NUL bytes, which a BODY[] literal may
 * not carry (RFC 3501 §4.3 CHAR8). BINARY[] sends them as they are (in literal8); BODY[], RFC822
 * and the like send each NUL as 0x80, as Dovecot does, keeping the size (RFC822.SIZE) right. The
 * stored bytes are not changed.
 */
const NUL_STANDIN = 0x80;

export function withoutNuls(bytes: Buffer): Buffer {
  if (!bytes.includes(0)) return bytes;
  const copy = Buffer.from(bytes);
  for (let at = copy.indexOf(0); at !== -1; at = copy.indexOf(0, at + 1)) copy[at] = NUL_STANDIN;
  return copy;
}

function streamWithoutNuls(open: () => AsyncIterable<Buffer>): () => AsyncIterable<Buffer> {
  return async function* () {
    for await (const chunk of open()) yield withoutNuls(chunk);
  };
}

/** What a section item contributes: the bytes, or a stream for big pieces. */
async function sectionValue(item: Extract<FetchItem, { kind: 'section' }>, src: MessageSource): Promise<ImapValue> {
  const { section, partial } = item;
  const size = await src.size();
  let target;
  if (section.path.length === 0 && section.text === 'all') target = { kind: 'range' as const, range: { start: 0, end: size } };
  else target = sectionTarget(await src.structure(), section);
  if (!target) return '';
  if (target.kind === 'fields') {
    const header = await src.read(target.header, size);
    const bytes = slicePartial(filterHeaderFields(header, target.names, target.not), partial);
    return bytes.length === 0 ? '' : literal(withoutNuls(bytes));
  }
  const range = applyPartial({ start: Math.min(target.range.start, size), end: Math.min(target.range.end, size) }, partial);
  const length = Math.max(0, range.end - range.start);
  if (length === 0) return '';
  if (length > STREAM_THRESHOLD) return literal(streamWithoutNuls(await src.stream(range)), length);
  return literal(withoutNuls(await src.read(range, size)));
}

async function renderItem(item: FetchItem, src: MessageSource, opts: RenderOptions): Promise<[string, ImapValue]> {
  if (item.kind === 'section' || item.kind === 'binary') {
    const label = item.partial ? `${item.label}<${item.partial.offset}>` : item.label;
    return [label, item.kind === 'binary' ? await binaryValue(src, item.path, item.partial) : await sectionValue(item, src)];
  }
  if (item.kind === 'binarySize') return [item.label, await binarySize(src, item.path)];
  if (item.kind === 'preview') {
    // RFC 8970 §3.3: UTF-8 text; the encoder sends it as a literal when it holds 8-bit characters
    // and the client has not enabled UTF8=ACCEPT (a quoted string may not carry them, RFC 3501 §4.3).
    const preview = opts.extras?.preview;
    if (preview === undefined) throw new StoreError('nonexistent', 'message expunged');
    // The draft's form names the algorithm with the text: SNIPPET (FUZZY "…"), NIL when lazy.
    if (item.snippet) return ['SNIPPET', [atom('FUZZY'), preview]];
    if (item.fuzzy) return ['PREVIEW', [atom('FUZZY'), preview]];
    return ['PREVIEW', preview];
  }
  switch (item.name) {
    case 'UID':
      return ['UID', src.uid];
    case 'FLAGS':
      return ['FLAGS', flagAtoms(opts.flags(src.uid))];
    case 'INTERNALDATE':
      return ['INTERNALDATE', src.record ? internalDateText(src.record.internalDate) : null];
    case 'RFC822.SIZE':
      return ['RFC822.SIZE', await src.size()];
    case 'MODSEQ':
      return ['MODSEQ', [opts.modseq ?? src.record?.modseq ?? 0]];
    case 'ENVELOPE':
    case 'BODY':
    case 'BODYSTRUCTURE':
      return [item.name, renderedTree(await src.structure(), item.name, opts.utf8)];
    case 'EMAILID': {
      const id = opts.extras?.emailId;
      if (id === undefined) throw new StoreError('nonexistent', 'message expunged');
      return ['EMAILID', [atom(id)]];
    }
    case 'THREADID':
      return ['THREADID', opts.threadId ? [atom(opts.threadId)] : null];
    case 'SAVEDATE': {
      // RFC 8514 §4.2: NIL when the save date is not known (rows from before the store kept it).
      const saved = src.record?.saveDate;
      return ['SAVEDATE', saved ? formatInternalDate(saved) : null];
    }
  }
}

/** True when the items need nothing but the session's view (UID, FLAGS): no store access at all. */
export function viewOnly(items: FetchItem[]): boolean {
  return items.every((i) => i.kind === 'simple' && (i.name === 'UID' || i.name === 'FLAGS'));
}

/**
 * INTERNALDATE texts by the instant, kept: a client listing a folder asks the same messages' dates
 * again and again, and formatting one costs ~0.2 µs (20 µs for a page of 100).
 */
const DATE_TEXTS = new RecentCache<number, string>(8192);

function internalDateText(date: Date): string {
  const ms = date.getTime();
  let text = DATE_TEXTS.get(ms);
  if (text === undefined) {
    text = formatInternalDate(date);
    DATE_TEXTS.set(ms, text);
  }
  return text;
}

/**
 * Flag atoms, shared: the same few flags go out for every message of a page. Atoms are never
 * modified (the encoder only reads them); the bound keeps a mailbox of many keywords from growing
 * the map without end — past it, atoms are made per use as before.
 */
const FLAG_ATOMS = new Map<string, ImapValue>();
const MAX_FLAG_ATOMS = 1024;

function flagAtoms(flags: readonly Flag[]): ImapValue[] {
  const out = new Array<ImapValue>(flags.length);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    let a = FLAG_ATOMS.get(f);
    if (a === undefined) {
      a = atom(f);
      if (FLAG_ATOMS.size < MAX_FLAG_ATOMS) FLAG_ATOMS.set(f, a);
    }
    out[i] = a;
  }
  return out;
}

/** The atoms of the fixed item names, made once: a FETCH page names them for every message. */
const NAME_ATOMS = new Map<string, ImapValue>(
  ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'EMAILID', 'THREADID', 'SAVEDATE', 'PREVIEW', 'SNIPPET'].map((n) => [n, atom(n)]),
);
const nameAtom = (name: string): ImapValue => NAME_ATOMS.get(name) ?? atom(name);

/**
 * ENVELOPE, BODY and BODYSTRUCTURE values by structure, by identity: a store's structure cache
 * (SQLite's StructureCache, the memory store's per-content structure) hands the same object out
 * for every FETCH of the message, and a client listing a folder asks the same items again and
 * again. Value trees are never modified once built (the encoder only reads them); an entry goes
 * with its structure.
 */
interface RenderedTrees {
  envelope?: ImapValue;
  body?: ImapValue;
  body8?: ImapValue;
  bodyStructure?: ImapValue;
  bodyStructure8?: ImapValue;
}
const renderedTrees = new WeakMap<MessageStructure, RenderedTrees>();

function renderedTree(structure: MessageStructure, name: 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE', utf8: boolean | undefined): ImapValue {
  let trees = renderedTrees.get(structure);
  if (!trees) {
    trees = {};
    renderedTrees.set(structure, trees);
  }
  // Each kept with its bytes once written (keptEncoding): later FETCHes copy them.
  if (name === 'ENVELOPE') return (trees.envelope ??= keptEncoding(renderEnvelope(structure.envelope)));
  // Parameter values differ with UTF8=ACCEPT (bodystructure.ts params): one tree for each form.
  if (name === 'BODY')
    return utf8 ? (trees.body8 ??= keptEncoding(renderBodyStructure(structure.root, false, true))) : (trees.body ??= keptEncoding(renderBodyStructure(structure.root, false, false)));
  return utf8
    ? (trees.bodyStructure8 ??= keptEncoding(renderBodyStructure(structure.root, true, true)))
    : (trees.bodyStructure ??= keptEncoding(renderBodyStructure(structure.root, true, false)));
}

/** Marks an item renderItemNow() cannot answer without the store. */
const LATER = Symbol('later');

/**
 * A section answered from what the batch loaded (the structure, the header block): HEADER.FIELDS
 * and HEADER of the message itself, and anything that names no existing part. Other pieces need
 * the store (LATER).
 */
function sectionValueNow(item: Extract<FetchItem, { kind: 'section' }>, src: MessageSource): ImapValue | typeof LATER {
  const structure = src.loadedStructure;
  if (!structure) return LATER;
  const { section, partial } = item;
  if (section.path.length === 0 && section.text === 'all') return LATER;
  const size = src.knownSize!;
  const target = sectionTarget(structure, section);
  if (!target) return '';
  if (target.kind === 'fields') {
    const header = src.loadedBytes({ start: Math.min(target.header.start, size), end: Math.min(target.header.end, size) });
    if (!header) return LATER;
    const bytes = slicePartial(filterHeaderFields(header, target.names, target.not), partial);
    return bytes.length === 0 ? '' : literal(withoutNuls(bytes));
  }
  const range = applyPartial({ start: Math.min(target.range.start, size), end: Math.min(target.range.end, size) }, partial);
  const length = Math.max(0, range.end - range.start);
  if (length === 0) return '';
  if (length > STREAM_THRESHOLD) return LATER;
  const bytes = src.loadedBytes(range);
  return bytes ? literal(withoutNuls(bytes)) : LATER;
}

/**
 * The items answered from what is at hand (the record, the session's flags, the batch's extras,
 * structures and header blocks): without an async call per item — a promise and a suspended frame
 * each, which for a 25-message page of four items were a third of what the page allocated
 * (bench/command-alloc.ts).
 */
function renderItemNow(item: FetchItem, src: MessageSource, opts: RenderOptions): ImapValue | typeof LATER {
  if (item.kind === 'section') return sectionValueNow(item, src);
  if (item.kind !== 'simple') return LATER;
  switch (item.name) {
    case 'UID':
      return src.uid;
    case 'FLAGS':
      return flagAtoms(opts.flags(src.uid));
    case 'INTERNALDATE':
      return src.record ? internalDateText(src.record.internalDate) : null;
    case 'RFC822.SIZE':
      return src.knownSize ?? LATER;
    case 'MODSEQ':
      return [opts.modseq ?? src.record?.modseq ?? 0];
    case 'ENVELOPE':
    case 'BODY':
    case 'BODYSTRUCTURE': {
      const structure = src.loadedStructure;
      return structure ? renderedTree(structure, item.name, opts.utf8) : LATER;
    }
    default:
      return LATER;
  }
}

/** The name an item answered by renderItemNow() goes out under: a shared atom for the fixed names. */
function itemName(item: FetchItem): ImapValue {
  if (item.kind === 'simple') return nameAtom(item.name);
  if (item.kind === 'section') return atom(item.partial ? `${item.label}<${item.partial.offset}>` : item.label);
  throw new Error(`renderItemNow() does not answer ${item.kind} items`);
}

async function renderRest(out: ImapValue[], lists: ReadonlyArray<readonly FetchItem[]>, list: number, from: number, src: MessageSource, opts: RenderOptions): Promise<ImapValue[]> {
  for (let l = list; l < lists.length; l++) {
    const items = lists[l]!;
    for (let i = l === list ? from : 0; i < items.length; i++) {
      const item = items[i]!;
      const now = renderItemNow(item, src, opts);
      if (now !== LATER) {
        out.push(itemName(item), now);
        continue;
      }
      const [name, value] = await renderItem(item, src, opts);
      out.push(nameAtom(name), value);
    }
  }
  return out;
}

/**
 * The flat list `name value name value ...` of one FETCH response: an array when every item was
 * answered from what is at hand, else a promise of it (the first item that needs the store and
 * everything after it are awaited in order).
 */
export function renderFetch(items: FetchItem[], src: MessageSource, opts: RenderOptions): ImapValue[] | Promise<ImapValue[]> {
  const out: ImapValue[] = [];
  const lists = [opts.prepend, items, opts.append];
  for (let l = 0; l < lists.length; l++) {
    const list = lists[l]!;
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!;
      const now = renderItemNow(item, src, opts);
      if (now === LATER) return renderRest(out, lists, l, i, src, opts);
      out.push(itemName(item), now);
    }
  }
  return out;
}

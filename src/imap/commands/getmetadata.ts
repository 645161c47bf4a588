/**
 * GETMETADATA (RFC 5464 §4.2): annotations of a mailbox, or of the server when the name is "".
 *
 * Options (§4.2.1, §4.2.2): MAXSIZE leaves out values longer than it and answers the longest left
 * out in `OK [METADATA LONGENTRIES n]`; DEPTH 0 (the default), 1 or infinity adds the entries
 * below each one asked for. An entry asked for by name that has no value is answered NIL with
 * DEPTH 0, as Dovecot does; with DEPTH 1 or infinity only what exists is listed (§4.2.2's example).
 * Entries may be given as one list or, as in §4.4.1's examples, one after another.
 */
import type { CommandSpec } from './types.js';
import type { ImapValue } from '../wire/types.js';
import { atom, literal } from '../wire/types.js';
import { astring } from '../wire/encoder.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { mailboxNameFrom } from './mailbox-name.js';
import { METADATA_CAPABILITIES, computedEntries, entryName, metadataTarget, requireMetadata } from './metadata-common.js';
import { mailboxNameValue } from './mailbox-name.js';

export type MetadataDepth = 0 | 1 | 'infinity';

export interface GetMetadataArgs {
  /** "" for the server. */
  name: string;
  entries: string[];
  depth: MetadataDepth;
  maxSize?: number;
}

function readOptions(r: ArgReader, args: GetMetadataArgs): void {
  const list = r.list('GETMETADATA options');
  if (list.remaining === 0) throw new ParseError('Empty GETMETADATA option list');
  const seen = new Set<string>();
  while (list.remaining > 0) {
    const option = list.atom('GETMETADATA option').toUpperCase();
    if (seen.has(option)) throw new ParseError(`GETMETADATA option ${option} given twice`);
    seen.add(option);
    if (option === 'MAXSIZE') args.maxSize = list.number('MAXSIZE value');
    else if (option === 'DEPTH') {
      const depth = list.atom('DEPTH value').toLowerCase();
      if (depth === '0' || depth === '1') args.depth = Number(depth) as 0 | 1;
      else if (depth === 'infinity') args.depth = 'infinity';
      else throw new ParseError('DEPTH must be 0, 1 or infinity');
    } else throw new ParseError(`Unknown GETMETADATA option ${option.slice(0, 40)}`);
  }
}

/** Whether `entry` is `asked` or lies below it within `depth` levels. */
function within(entry: string, asked: string, depth: MetadataDepth): boolean {
  if (entry === asked) return true;
  if (depth === 0 || !entry.startsWith(`${asked}/`)) return false;
  return depth === 'infinity' || !entry.slice(asked.length + 1).includes('/');
}

/** A value as the response carries it: literal8 when it holds NUL (RFC 5464 §5 value = nstring / literal8). */
function valueOf(value: Buffer): ImapValue {
  return value.includes(0) ? literal(value, undefined, true) : value;
}

export const getMetadataCommand: CommandSpec<GetMetadataArgs> = {
  name: 'GETMETADATA',
  states: ['authenticated', 'selected'],
  capabilities: [...METADATA_CAPABILITIES],
  parse(tokens, env) {
    const r = new ArgReader(tokens);
    const args: GetMetadataArgs = { name: '', entries: [], depth: 0 };
    // §5's ABNF puts the options before the mailbox, the examples of §4.2.1/§4.2.2 after it: both
    // are read (as Cyrus and Dovecot do). After the mailbox, a list is options only when more follows.
    if (r.isList()) readOptions(r, args);
    args.name = mailboxNameFrom(r.bytes('mailbox name'), env.enabled);
    if (r.isList() && r.remaining > 1) {
      if (args.depth !== 0 || args.maxSize !== undefined) throw new ParseError('GETMETADATA options given twice');
      readOptions(r, args);
    }
    if (r.remaining === 0) throw new ParseError('Missing entry names');
    if (r.isList()) {
      const list = r.list('entry names');
      if (list.remaining === 0) throw new ParseError('Empty entry list');
      while (list.remaining > 0) args.entries.push(entryName(list, true));
      r.end();
    } else {
      while (r.remaining > 0) args.entries.push(entryName(r, true));
    }
    return args;
  },
  async run(ctx, args) {
    const target = await metadataTarget(ctx, args.name);
    const stored = await requireMetadata(target.mail).getMetadata(target.mailbox?.id ?? null);
    const values = new Map(stored.map((e) => [e.entry, e.value]));
    for (const [entry, value] of computedEntries(target, ctx.server.adminContact)) values.set(entry, value);
    const names = [...values.keys()].sort();
    const out: ImapValue[] = [];
    const listed = new Set<string>();
    let longest = 0;
    for (const asked of args.entries) {
      const found = names.filter((e) => within(e, asked, args.depth));
      if (found.length === 0 && args.depth === 0 && !listed.has(asked)) {
        listed.add(asked);
        out.push(astring(asked), null);
      }
      for (const entry of found) {
        if (listed.has(entry)) continue;
        listed.add(entry);
        const value = values.get(entry)!;
        if (args.maxSize !== undefined && value.length > args.maxSize) {
          longest = Math.max(longest, value.length);
          continue;
        }
        out.push(astring(entry), valueOf(value));
      }
    }
    if (out.length > 0) {
      const mailbox = target.mailbox === null ? '' : mailboxNameValue(target.mailbox.name, ctx.enabled);
      ctx.untagged(atom('METADATA'), mailbox, out);
    }
    if (longest > 0) return { text: 'GETMETADATA completed', code: { name: 'METADATA', args: [atom('LONGENTRIES'), longest] } };
    return { text: 'GETMETADATA completed' };
  },
};

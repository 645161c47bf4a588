import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { mutf7Name } from './mailbox-name.js';

interface SelectArgs {
  name: string;
  /** RFC 7162 §3.1.8: the CONDSTORE select parameter was given. */
  condstore: boolean;
}

/**
 * RFC 4466 §2.1 select-params: `"(" select-param *(SP select-param) ")"`. CONDSTORE (RFC 7162 §3.1.8)
 * is the only one we know and takes no value; anything else is BAD, as the client would otherwise
 * believe it had turned on something we ignore.
 */
function parseSelectParams(r: ArgReader): { condstore: boolean } {
  const list = r.list('select parameters');
  if (list.remaining === 0) throw new ParseError('Empty select parameter list');
  let condstore = false;
  while (list.remaining > 0) {
    const name = list.atom('select parameter').toUpperCase();
    if (name !== 'CONDSTORE') throw new ParseError(`Unknown select parameter ${name.slice(0, 40)}`);
    condstore = true;
  }
  return { condstore };
}

function parseSelect(args: Parameters<CommandSpec['parse']>[0], env: Parameters<CommandSpec['parse']>[1]): SelectArgs {
  const r = new ArgReader(args);
  const raw = r.astring('mailbox name');
  const { condstore } = r.remaining > 0 ? parseSelectParams(r) : { condstore: false };
  r.end();
  return { name: env.enabled.has('UTF8=ACCEPT') ? raw : mutf7Name(raw), condstore };
}

/** RFC 7162 §3.1.8 Example 18 tells the client in the tagged text that CONDSTORE is on. */
const completed = (verb: string, args: SelectArgs): string =>
  args.condstore ? `${verb} completed, CONDSTORE is now enabled` : `${verb} completed`;

/** RFC 3501 §6.3.1: the untagged FLAGS/EXISTS/RECENT/OK responses are written by ctx.select(). */
export const selectCommand: CommandSpec<SelectArgs> = {
  name: 'SELECT',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    // A mailbox the store marks read-only opens as EXAMINE would (RFC 3501 §6.3.1 allows READ-ONLY).
    const view = await ctx.select(args.name, { readOnly: false, condstore: args.condstore });
    return { code: { name: view.readOnly ? 'READ-ONLY' : 'READ-WRITE' }, text: completed('SELECT', args) };
  },
};

/** RFC 3501 §6.3.2: the same, read-only. */
export const examineCommand: CommandSpec<SelectArgs> = {
  name: 'EXAMINE',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    await ctx.select(args.name, { readOnly: true, condstore: args.condstore });
    return { code: { name: 'READ-ONLY' }, text: completed('EXAMINE', args) };
  },
};

import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { decodeMailboxName } from '../wire/mutf7.js';

interface SelectArgs {
  name: string;
}

function parseSelect(args: Parameters<CommandSpec['parse']>[0], env: Parameters<CommandSpec['parse']>[1]): SelectArgs {
  const r = new ArgReader(args);
  const raw = r.astring('mailbox name');
  r.end();
  return { name: env.enabled.has('UTF8=ACCEPT') ? raw : decodeMailboxName(raw) };
}

/** RFC 3501 §6.3.1: the untagged FLAGS/EXISTS/RECENT/OK responses are written by ctx.select(). */
export const selectCommand: CommandSpec<SelectArgs> = {
  name: 'SELECT',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    await ctx.select(args.name, { readOnly: false });
    return { code: { name: 'READ-WRITE' }, text: 'SELECT completed' };
  },
};

/** RFC 3501 §6.3.2: the same, read-only. */
export const examineCommand: CommandSpec<SelectArgs> = {
  name: 'EXAMINE',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  async run(ctx, args) {
    await ctx.select(args.name, { readOnly: true });
    return { code: { name: 'READ-ONLY' }, text: 'EXAMINE completed' };
  },
};

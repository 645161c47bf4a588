/**
 * UNSELECT (RFC 3691): leave the selected state without expunging anything.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';

/** Back to the authenticated state; the session closes the old view. Shared with CLOSE. */
export function deselect(ctx: CommandContext): void {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  ctx.setState({ kind: 'authenticated', user: state.user, mail: state.mail });
}

export const unselectCommand: CommandSpec<void> = {
  name: 'UNSELECT',
  states: ['selected'],
  capabilities: ['UNSELECT'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    deselect(ctx);
  },
};

/** RFC 1939 §5 RSET: unmark every message marked by DELE. */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';
import { transaction } from './message-number.js';

export const rsetCommand: Pop3Command<void> = {
  name: 'RSET',
  states: ['transaction'],
  parse: noArguments,
  async run(ctx) {
    const state = transaction(ctx.state);
    state.deleted.clear();
    return { text: `Maildrop has ${state.maildrop.count} message${state.maildrop.count === 1 ? '' : 's'}` };
  },
};

/** RFC 1939 §5 STAT: "+OK nn mm", messages not marked deleted and their octets. */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';
import { transaction } from './message-number.js';

export const statCommand: Pop3Command<void> = {
  name: 'STAT',
  states: ['transaction'],
  parse: noArguments,
  async run(ctx) {
    const state = transaction(ctx.state);
    let count = 0;
    let octets = 0;
    for (let i = 0; i < state.maildrop.count; i++) {
      if (state.deleted.has(i)) continue;
      count += 1;
      octets += await state.maildrop.size(i);
    }
    return { text: `${count} ${octets}` };
  },
};

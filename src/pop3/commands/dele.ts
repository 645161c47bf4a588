/** RFC 1939 §5 DELE msg: only a mark; the message goes at QUIT, in the UPDATE state. */
import type { Pop3Command } from './types.js';
import { oneMessageNumber } from './arguments.js';
import { messageIndex, transaction } from './message-number.js';

export const deleCommand: Pop3Command<number> = {
  name: 'DELE',
  states: ['transaction'],
  parse: oneMessageNumber,
  async run(ctx, n) {
    const state = transaction(ctx.state);
    state.deleted.add(messageIndex(state, n));
    return { text: `Message ${n} deleted` };
  },
};

/** RFC 1939 §5 RETR msg: the whole message, streamed; the octet count is the one LIST reports. */
import type { Pop3Command } from './types.js';
import { oneMessageNumber } from './arguments.js';
import { messageIndex, transaction } from './message-number.js';

export const retrCommand: Pop3Command<number> = {
  name: 'RETR',
  states: ['transaction'],
  parse: oneMessageNumber,
  async run(ctx, n) {
    const state = transaction(ctx.state);
    const index = messageIndex(state, n);
    const size = await state.maildrop.size(index);
    return {
      text: `${size} octets`,
      body: { kind: 'message', content: state.maildrop.content(index), onSent: () => state.retrieved.add(index) },
    };
  },
};

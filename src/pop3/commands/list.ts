/** RFC 1939 §5 LIST [msg]: scan listings "n size", deleted messages left out. */
import type { Pop3Command } from './types.js';
import { optionalMessageNumber } from './arguments.js';
import { messageIndex, transaction } from './message-number.js';
import { TimeSlice } from '../../util/time-slice.js';

export const listCommand: Pop3Command<number | undefined> = {
  name: 'LIST',
  states: ['transaction'],
  parse: optionalMessageNumber,
  async run(ctx, n) {
    const state = transaction(ctx.state);
    if (n !== undefined) {
      const index = messageIndex(state, n);
      return { text: `${n} ${await state.maildrop.size(index)}` };
    }
    const lines: string[] = [];
    let octets = 0;
    const slice = new TimeSlice(); // a maildrop of 100,000 is built in steps, others served between
    for (let i = 0; i < state.maildrop.count; i++) {
      await slice.pause();
      if (state.deleted.has(i)) continue;
      const size = await state.maildrop.size(i);
      octets += size;
      lines.push(`${i + 1} ${size}`);
    }
    return { text: `${lines.length} messages (${octets} octets)`, body: { kind: 'lines', lines } };
  },
};

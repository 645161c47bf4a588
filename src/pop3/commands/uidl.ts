/** RFC 1939 §7 UIDL [msg]: "n unique-id", the ids stable across sessions (see the maildrops). */
import type { Pop3Command } from './types.js';
import { optionalMessageNumber } from './arguments.js';
import { messageIndex, transaction } from './message-number.js';
import { TimeSlice } from '../../util/time-slice.js';

export const uidlCommand: Pop3Command<number | undefined> = {
  name: 'UIDL',
  states: ['transaction'],
  parse: optionalMessageNumber,
  async run(ctx, n) {
    const state = transaction(ctx.state);
    if (n !== undefined) return { text: `${n} ${state.maildrop.uidl(messageIndex(state, n))}` };
    const lines: string[] = [];
    const slice = new TimeSlice(); // a maildrop of 100,000 is built in steps, others served between
    for (let i = 0; i < state.maildrop.count; i++) {
      await slice.pause();
      if (!state.deleted.has(i)) lines.push(`${i + 1} ${state.maildrop.uidl(i)}`);
    }
    return { text: 'Unique-id listing follows', body: { kind: 'lines', lines } };
  },
};

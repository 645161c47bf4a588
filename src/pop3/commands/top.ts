/** RFC 1939 §7 TOP msg n: the header, the blank line, and n lines of the body. */
import type { Pop3Command } from './types.js';
import { CommandSyntaxError, parseLineCount, parseMessageNumber } from '../wire/command-line.js';
import { messageIndex, transaction } from './message-number.js';

export const topCommand: Pop3Command<{ n: number; lines: number }> = {
  name: 'TOP',
  states: ['transaction'],
  parse(line) {
    if (line.args.length !== 2) throw new CommandSyntaxError('TOP takes a message number and a number of lines');
    return { n: parseMessageNumber(line.args[0]), lines: parseLineCount(line.args[1]) };
  },
  async run(ctx, { n, lines }) {
    const state = transaction(ctx.state);
    const index = messageIndex(state, n);
    return { text: 'Top of message follows', body: { kind: 'message', content: state.maildrop.content(index), bodyLines: lines } };
  },
};

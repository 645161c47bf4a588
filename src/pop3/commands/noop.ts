/** RFC 1939 §5 NOOP: nothing, positively. */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';

export const noopCommand: Pop3Command<void> = {
  name: 'NOOP',
  states: ['transaction'],
  parse: noArguments,
  run: async () => ({ text: 'Nothing done' }),
};

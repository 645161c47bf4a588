/**
 * CHECK (RFC 3501 §6.4.1): a checkpoint. Every store call is already durable when it resolves, so
 * there is nothing left to do; pending updates are reported by the dispatcher afterwards, as for NOOP.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';

export const checkCommand: CommandSpec<void> = {
  name: 'CHECK',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run() {
    return { text: 'CHECK completed' };
  },
};

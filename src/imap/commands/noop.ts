import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';

/** RFC 3501 §6.1.2 — does nothing; pending mailbox updates are reported by the dispatcher after it. */
export const noopCommand: CommandSpec<void> = {
  name: 'NOOP',
  states: ['notAuthenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run() {},
};


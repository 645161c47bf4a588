/** RFC 2449 §5 CAPA: the capability list; valid in every state before UPDATE. */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';
import { capabilities } from '../capabilities.js';

export const capaCommand: Pop3Command<void> = {
  name: 'CAPA',
  states: ['authorization', 'transaction'],
  parse: noArguments,
  run: async (ctx) => ({ text: 'Capability list follows', body: { kind: 'lines', lines: capabilities(ctx) } }),
};

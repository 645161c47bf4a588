/**
 * NAMESPACE (RFC 2342 §5): one personal namespace with an empty prefix; no other users' or shared
 * namespaces — `* NAMESPACE (("" "/")) NIL NIL`.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';
import { userMail } from './mailbox-name.js';

export const namespaceCommand: CommandSpec<void> = {
  name: 'NAMESPACE',
  states: ['authenticated', 'selected'],
  capabilities: ['NAMESPACE'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    userMail(ctx);
    const delimiter = ctx.server.store.delimiter;
    ctx.untagged(atom('NAMESPACE'), [['', delimiter === '' ? null : delimiter]], null, null);
    return { text: 'NAMESPACE completed' };
  },
};

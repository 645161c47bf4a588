/**
 * NAMESPACE (RFC 2342 §5): one personal namespace with an empty prefix and, when the store keeps
 * access control lists, the other users' namespace "Shared/" where mailboxes others share with
 * the user appear as "Shared/<owner>/<name>" (docs/sharing.md; Dovecot answers its
 * "shared/%u/" namespace in the same place) — `* NAMESPACE (("" "/")) (("Shared/" "/")) NIL`.
 * No shared-folder namespace (the third): every mailbox here has an owner. A user with a mailbox of
 * their own named "Shared" keeps it, and has no other users' namespace.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';
import { userMail } from './mailbox-name.js';
import { DEFAULT_SHARED_PREFIX } from '../../store/sharing/names.js';
import { hasSharedNamespace } from '../../store/sharing/shared-view.js';

export const namespaceCommand: CommandSpec<void> = {
  name: 'NAMESPACE',
  states: ['authenticated', 'selected'],
  capabilities: ['NAMESPACE'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    const mail = userMail(ctx);
    const delimiter = ctx.server.store.delimiter;
    const d = delimiter === '' ? null : delimiter;
    const shared = d !== null && (await hasSharedNamespace(mail));
    // The prefix is ASCII, the same in modified UTF-7 and UTF-8; RFC 2342 §6 writes it as a string.
    const others = shared ? [[DEFAULT_SHARED_PREFIX + delimiter, d]] : null;
    ctx.untagged(atom('NAMESPACE'), [['', d]], others, null);
    return { text: 'NAMESPACE completed' };
  },
};

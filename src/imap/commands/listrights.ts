/**
 * LISTRIGHTS (RFC 4314 §3.4, §3.7): the owner is always granted every right; anyone else may be
 * granted each right on its own (none are tied), and is always granted none.
 */
import type { CommandSpec } from './types.js';
import { astring } from '../wire/encoder.js';
import { atom, type ImapValue } from '../wire/types.js';
import { ALL_RIGHTS, displayRights } from '../../store/acl.js';
import { mailboxNameValue } from './mailbox-name.js';
import { ACL_CAPABILITIES, parseAclMailboxIdentifier, aclTarget, requireAdminister } from './acl-common.js';

export const listRightsCommand: CommandSpec<{ name: string; identifier: string }> = {
  name: 'LISTRIGHTS',
  states: ['authenticated', 'selected'],
  capabilities: [...ACL_CAPABILITIES],
  parse: parseAclMailboxIdentifier,
  async run(ctx, args) {
    const target = await aclTarget(ctx, args.name);
    requireAdminister(target);
    // The identifier is answered in the form the client gave (§3.4).
    const values: ImapValue[] = [atom('LISTRIGHTS'), mailboxNameValue(target.mailbox.name, ctx.enabled), astring(args.identifier)];
    if (args.identifier === target.owner) values.push(atom(displayRights(ALL_RIGHTS)));
    else values.push('', ...[...ALL_RIGHTS].map((r) => atom(r)));
    ctx.untagged(...values);
    return { text: 'Listrights completed' };
  },
};

/** DELETEACL (RFC 4314 §3.2): removes the identifier's entry (not the same as negative rights). */
import type { CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { ACL_CAPABILITIES, parseAclMailboxIdentifier, aclTarget, requireAdminister } from './acl-common.js';

export const deleteAclCommand: CommandSpec<{ name: string; identifier: string }> = {
  name: 'DELETEACL',
  states: ['authenticated', 'selected'],
  capabilities: [...ACL_CAPABILITIES],
  parse: parseAclMailboxIdentifier,
  async run(ctx, args) {
    const target = await aclTarget(ctx, args.name);
    requireAdminister(target);
    if (args.identifier === target.owner) throw ImapError.no("The owner's rights cannot be changed", 'CANNOT');
    if (!target.mail.setAcl) throw ImapError.no('This server keeps no access control lists', 'CANNOT');
    await target.mail.setAcl(target.mailbox.id, args.identifier, null);
    return { text: 'Deleteacl completed' };
  },
};

/**
 * GETACL (RFC 4314 §3.3): `* ACL <mailbox> <identifier> <rights> ...`. The owner is listed first
 * with every right (the owner has them implicitly, src/store/acl.ts), then the stored entries.
 */
import type { CommandSpec } from './types.js';
import { astring, } from '../wire/encoder.js';
import { atom, type ImapValue } from '../wire/types.js';
import { ALL_RIGHTS, displayRights } from '../../store/acl.js';
import { mailboxNameValue } from './mailbox-name.js';
import { ACL_CAPABILITIES, parseAclMailbox, aclTarget, requireAdminister } from './acl-common.js';

export const getAclCommand: CommandSpec<{ name: string }> = {
  name: 'GETACL',
  states: ['authenticated', 'selected'],
  capabilities: [...ACL_CAPABILITIES],
  parse: parseAclMailbox,
  async run(ctx, args) {
    const target = await aclTarget(ctx, args.name);
    requireAdminister(target);
    const entries = target.mail.getAcl ? await target.mail.getAcl(target.mailbox.id) : [];
    const values: ImapValue[] = [atom('ACL'), mailboxNameValue(target.mailbox.name, ctx.enabled), astring(target.owner), atom(displayRights(ALL_RIGHTS))];
    for (const e of entries) if (e.identifier !== target.owner) values.push(astring(e.identifier), astring(displayRights(e.rights)));
    ctx.untagged(...values);
    return { text: 'Getacl completed' };
  },
};

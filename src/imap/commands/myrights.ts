/**
 * MYRIGHTS (RFC 4314 §3.5): the user's rights in the mailbox; any of "l r i k x a" lets the user
 * ask (§4) — without "l" the mailbox does not exist for the user anyway (docs/sharing.md).
 */
import type { CommandSpec } from './types.js';
import { astring } from '../wire/encoder.js';
import { atom } from '../wire/types.js';
import { displayRights } from '../../store/acl.js';
import { ImapError } from '../errors.js';
import { mailboxNameValue } from './mailbox-name.js';
import { ACL_CAPABILITIES, parseAclMailbox, aclTarget } from './acl-common.js';

export const myRightsCommand: CommandSpec<{ name: string }> = {
  name: 'MYRIGHTS',
  states: ['authenticated', 'selected'],
  capabilities: [...ACL_CAPABILITIES],
  parse: parseAclMailbox,
  async run(ctx, args) {
    const target = await aclTarget(ctx, args.name);
    if (!/[lrikxa]/.test(target.rights)) throw ImapError.no('Permission denied', 'NOPERM');
    ctx.untagged(atom('MYRIGHTS'), mailboxNameValue(target.mailbox.name, ctx.enabled), astring(displayRights(target.rights)));
    return { text: 'Myrights completed' };
  },
};

/**
 * SETACL (RFC 4314 §3.1): replaces, adds to ("+") or removes from ("-") an identifier's rights.
 * An unknown right is BAD (§3.1: never silently ignored); the owner's rights cannot be changed
 * (they are all implicit, src/store/acl.ts), which is NO [CANNOT]; "" with no prefix removes the
 * entry, as Dovecot does.
 */
import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { applyModification, normalizeRights, RightsSyntaxError } from '../../store/acl.js';
import { ImapError } from '../errors.js';
import { readMailboxName } from './mailbox-name.js';
import { ACL_CAPABILITIES, aclTarget, requireAdminister } from './acl-common.js';

export interface SetAclArgs {
  name: string;
  identifier: string;
  modification: string;
}

export const setAclCommand: CommandSpec<SetAclArgs> = {
  name: 'SETACL',
  states: ['authenticated', 'selected'],
  capabilities: [...ACL_CAPABILITIES],
  parse(args, env) {
    const r = new ArgReader(args);
    const name = readMailboxName(r, env.enabled);
    const identifier = r.astring('identifier');
    const modification = r.astring('access right modification');
    r.end();
    try {
      normalizeRights(modification.replace(/^[+-]/, ''));
    } catch (err) {
      if (err instanceof RightsSyntaxError) throw new ParseError(err.message);
      throw err;
    }
    return { name, identifier, modification };
  },
  async run(ctx, args) {
    const target = await aclTarget(ctx, args.name);
    requireAdminister(target);
    if (args.identifier === target.owner) throw ImapError.no("The owner's rights cannot be changed", 'CANNOT');
    const current = target.mail.getAcl ? (await target.mail.getAcl(target.mailbox.id)).find((e) => e.identifier === args.identifier)?.rights ?? '' : '';
    const next = applyModification(current, args.modification);
    if (!target.mail.setAcl) throw ImapError.no('This server keeps no access control lists', 'CANNOT');
    await target.mail.setAcl(target.mailbox.id, args.identifier, next === '' ? null : next);
    return { text: 'Setacl completed' };
  },
};

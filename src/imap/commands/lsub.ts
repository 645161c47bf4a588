/**
 * LSUB (RFC 3501 §6.3.9): the subscribed names matching the pattern. With "%", a parent that is not
 * subscribed itself but has subscribed children is returned with \Noselect.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { decodeWireName, userMail } from './mailbox-name.js';
import { compilePattern } from '../list/pattern.js';
import { selectListEntries } from '../list/select.js';
import { writeListEntries } from '../list/respond.js';

export interface LsubArgs {
  reference: string;
  pattern: string;
}

export const lsubCommand: CommandSpec<LsubArgs> = {
  name: 'LSUB',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args);
    const reference = decodeWireName(r.bytes('reference name'), env.enabled, 'reference name');
    const pattern = decodeWireName(r.bytes('mailbox pattern'), env.enabled, 'mailbox pattern');
    r.end();
    return { reference, pattern };
  },
  async run(ctx, args) {
    const mail = userMail(ctx);
    const delimiter = ctx.server.store.delimiter;
    // An empty pattern matches only the empty name, which is never subscribed: nothing to list.
    // (Unlike LIST, §6.3.9 defines no delimiter request for LSUB.)
    if (args.pattern === '') return { text: 'LSUB completed' };
    const [mailboxes, subscriptions] = await Promise.all([mail.list(), mail.subscriptions()]);
    const entries = selectListEntries({
      mailboxes,
      subscriptions,
      delimiter,
      matches: compilePattern(args.reference, args.pattern, delimiter).matches,
      selection: { mode: 'lsub' },
    });
    await writeListEntries(ctx, mail, entries, { response: 'LSUB', delimiter });
    return { text: 'LSUB completed' };
  },
};

/**
 * CANCELUPDATE (RFC 5267 §4.3.5): `CANCELUPDATE 1*(SP quoted)` stops the UPDATE contexts of the
 * searching commands with those tags. A tag that names no live context is NO (the client's view
 * of its contexts is wrong); anything but quoted strings is BAD.
 */
import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { cancelUpdateContexts } from '../search/contexts.js';

export const cancelUpdateCommand: CommandSpec<{ tags: string[] }> = {
  name: 'CANCELUPDATE',
  states: ['selected'],
  capabilities: ['CONTEXT=SEARCH'],
  parse(tokens) {
    const r = new ArgReader(tokens);
    const tags: string[] = [];
    while (r.remaining > 0) {
      const t = r.next('tag');
      if (t.type !== 'string' || t.literal) throw new ParseError('CANCELUPDATE takes tags as quoted strings');
      tags.push(t.value.toString('latin1'));
    }
    if (tags.length === 0) throw new ParseError('CANCELUPDATE needs at least one tag');
    return { tags };
  },
  async run(ctx, { tags }) {
    if (ctx.state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
    if (!cancelUpdateContexts(ctx.state.view, tags)) throw ImapError.no('No UPDATE context with that tag');
    return { text: 'No further updates' };
  },
};

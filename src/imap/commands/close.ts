/**
 * CLOSE (RFC 3501 §6.4.2): leave the selected state, first removing \Deleted messages — silently,
 * with no EXPUNGE responses, since the client is leaving the mailbox — unless it was opened
 * read-only.
 */
import { mayExpunge } from './mailbox-access.js';
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { isStoreError } from '../../store/errors.js';
import { deselect } from './unselect.js';

export const closeCommand: CommandSpec<void> = {
  name: 'CLOSE',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
  },
  async run(ctx) {
    const state = ctx.state;
    if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
    const { mail, view } = state;
    if (mayExpunge(view)) {
      try {
        await mail.expunge(view.mailbox.id, [...view.uids()]);
      } catch (err) {
        // RFC 3501 §6.4.2 gives CLOSE no NO response: the mailbox is left either way, and a store
        // refusal (a permission change, say) is only worth a log line.
        if (!isStoreError(err)) throw err;
        ctx.logger.warn({ err, mailbox: view.mailbox.id }, 'CLOSE could not expunge');
      }
    }
    deselect(ctx);
  },
};

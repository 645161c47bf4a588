/**
 * A custom IMAP command, as shown in docs/api.md: `XCOUNT mailbox` answers `* XCOUNT mailbox n`.
 */
import { ArgReader, atom, type CommandSpec } from '../src/index.js';

export const xcountCommand: CommandSpec<{ mailbox: string }> = {
  name: 'XCOUNT',
  states: ['authenticated', 'selected'],
  capabilities: ['XCOUNT'],
  parse(args) {
    const r = new ArgReader(args);
    const mailbox = r.astring('mailbox');
    r.end();
    return { mailbox };
  },
  async run(ctx, { mailbox }) {
    if (ctx.state.kind === 'notAuthenticated') throw new Error('unreachable');
    const box = await ctx.state.mail.get(mailbox);
    const status = await ctx.state.mail.status(box.id);
    ctx.untagged(atom('XCOUNT'), mailbox, status.messages);
    return { text: 'counted' };
  },
};

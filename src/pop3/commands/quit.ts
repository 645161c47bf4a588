/**
 * RFC 1939 §6 QUIT. Before login it just says goodbye. In TRANSACTION it enters UPDATE: the DELE
 * marks are applied now and only now, so a connection that drops without QUIT deletes nothing.
 */
import type { Pop3Command } from './types.js';
import { noArguments } from './arguments.js';
import { Pop3Error, toPop3ErrorReply } from '../errors.js';

export const quitCommand: Pop3Command<void> = {
  name: 'QUIT',
  states: ['authorization', 'transaction'],
  parse: noArguments,
  async run(ctx) {
    const state = ctx.state;
    if (state.name !== 'transaction') return { text: 'Bye', then: 'close' };
    ctx.setState({ name: 'update' });
    const { services, connection } = ctx;
    const deleted = [...state.deleted];
    try {
      if (!state.maildrop.readOnly) await state.maildrop.commit(deleted, [...state.retrieved]);
    } catch (err) {
      const reply = toPop3ErrorReply(err);
      if (reply.unexpected) ctx.logger?.error({ err }, 'update failed');
      throw new Pop3Error(reply.text, reply.code ?? 'SYS/TEMP', true);
    } finally {
      await state.maildrop.release().catch((err: unknown) => ctx.logger?.warn({ err }, 'maildrop release failed'));
      services.locks.release(state.user, services.logger);
    }
    ctx.logger?.info({ user: state.user, deleted: deleted.length }, 'update');
    const left = state.maildrop.count - deleted.length;
    return { text: `Bye, ${left} message${left === 1 ? '' : 's'} left in maildrop`, then: 'close' };
  },
};

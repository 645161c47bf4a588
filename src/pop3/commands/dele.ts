/** RFC 1939 §5 DELE msg: only a mark; the message goes at QUIT, in the UPDATE state. */
import type { Pop3Command } from './types.js';
import { oneMessageNumber } from './arguments.js';
import { messageIndex, transaction } from './message-number.js';
import { Pop3Error } from '../errors.js';

export const deleCommand: Pop3Command<number> = {
  name: 'DELE',
  states: ['transaction'],
  parse: oneMessageNumber,
  async run(ctx, n) {
    const state = transaction(ctx.state);
    // Refused rather than accepted and ignored, so a client that deletes after download knows the
    // message stays (RFC 1939 §5 lets DELE answer -ERR).
    if (state.maildrop.readOnly) throw new Pop3Error('Maildrop is read-only; message kept');
    state.deleted.add(messageIndex(state, n));
    return { text: `Message ${n} deleted` };
  },
};

/** Turns a client's message number into a maildrop index, with the RFC 1939 §5 refusals. */
import { Pop3Error } from '../errors.js';
import type { Pop3State, TransactionState } from '../session/state.js';

export function messageIndex(state: TransactionState, n: number): number {
  if (n < 1 || n > state.maildrop.count) throw new Pop3Error(`No such message, only ${state.maildrop.count} in maildrop`);
  const index = n - 1;
  // §5: "a message-number ... which refers to a message marked as deleted" is invalid.
  if (state.deleted.has(index)) throw new Pop3Error(`Message ${n} already deleted`);
  return index;
}

/** The state narrowed to TRANSACTION; the dispatcher already checked it, this keeps the types honest. */
export function transaction(state: Pop3State): TransactionState {
  if (state.name !== 'transaction') throw new Pop3Error('Not in the TRANSACTION state');
  return state;
}

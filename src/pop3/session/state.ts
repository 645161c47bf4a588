/**
 * The session state (RFC 1939 §3) as a discriminated union: the maildrop and the DELE marks only
 * exist in TRANSACTION, so no command can reach them before login or after QUIT.
 */
import type { Maildrop } from '../maildrop/types.js';

export type Pop3State =
  | { name: 'authorization'; /** Name from a USER command waiting for PASS. */ pendingUser?: string }
  | {
      name: 'transaction';
      user: string;
      maildrop: Maildrop;
      /** Message indexes marked by DELE, undone by RSET, applied at QUIT. */
      deleted: Set<number>;
      /** Message indexes sent whole by RETR (they get \Seen at QUIT in the store mode). */
      retrieved: Set<number>;
    }
  | { name: 'update' };

export type Pop3StateName = Pop3State['name'];
export type TransactionState = Extract<Pop3State, { name: 'transaction' }>;

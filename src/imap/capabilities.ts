/**
 * What CAPABILITY advertises, by connection state (RFC 3501 §6.1.1, §7.2.1; RFC 2595 §3.2 and
 * RFC 3501 §6.2.3 for LOGINDISABLED). CONDSTORE (RFC 7162 §3.1.1) is unconditional: every store
 * keeps a persistent mod-sequence per message, so NOMODSEQ is never needed. QRESYNC (RFC 7162
 * §3.2) too: a store without an expunged-UID log is answered from the client's known UIDs.
 */
import type { StateKind, ConnectionInfo } from './commands/types.js';

export interface CapabilityInputs {
  conn: ConnectionInfo;
  state: StateKind;
  allowInsecureAuth: boolean;
  /** SASL mechanism names usable on this connection. */
  saslMechanisms: (secure: boolean) => string[];
  /** Capabilities contributed by registered commands. */
  commandCapabilities: string[];
  maxMessageSize: number;
  /** LITERAL- instead of LITERAL+ (RFC 7888 §5 forbids advertising both). */
  literalMinus?: boolean;
  /** INPROGRESS (RFC 9585 §3): progress lines are on (limits.inProgressSeconds > 0). */
  inProgress?: boolean;
  /** LOGIN-REFERRALS (RFC 2221 §3): the authenticator can name another server for a user. */
  loginReferrals?: boolean;
  /** RFC 9738 MESSAGELIMIT=n and SAVELIMIT=n (limits.maxMessagesPerCommand, maxMessagesPerSave). */
  messageLimit?: number;
  saveLimit?: number;
}

/**
 * What a store with `messageExtras` adds (FETCH/SEARCH items in fetch.ts and search/parse.ts; MAILBOXID in status.ts, create.ts, select).
 * SNIPPET=FUZZY is PREVIEW under its first draft's name (FETCH SNIPPET), PREVIEW=FUZZY the later
 * drafts' form (FETCH PREVIEW (FUZZY)), both still advertised by Dovecot 2.3 and 2.4.
 */
export const MESSAGE_EXTRAS_CAPABILITIES = ['OBJECTID', 'SAVEDATE', 'PREVIEW', 'PREVIEW=FUZZY', 'SNIPPET=FUZZY'] as const;

// IMAP4rev1 and IMAP4rev2 together (RFC 9051 Appendix A): rev1 behaviour until ENABLE IMAP4rev2.
const BASE = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'ENABLE', 'CHILDREN', 'NAMESPACE', 'UIDPLUS', 'ID', 'CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT'];

export function computeCapabilities(input: CapabilityInputs): string[] {
  const caps = [...BASE];
  caps.splice(2, 0, input.literalMinus ? 'LITERAL-' : 'LITERAL+');
  if (input.state === 'notAuthenticated') {
    if (input.conn.canStartTls) caps.push('STARTTLS');
    const authAllowed = input.conn.secure || input.allowInsecureAuth;
    if (authAllowed) {
      for (const m of input.saslMechanisms(input.conn.secure)) caps.push(`AUTH=${m}`);
    } else {
      caps.push('LOGINDISABLED');
    }
  }
  for (const c of input.commandCapabilities) {
    if (caps.includes(c)) continue;
    // COMPRESS is a command of the authenticated state (RFC 4978 §5: command-auth); like Dovecot,
    // it is offered once the client has logged in.
    if (c === 'COMPRESS=DEFLATE' && input.state === 'notAuthenticated') continue;
    caps.push(c);
  }
  if (input.inProgress) caps.push('INPROGRESS');
  // Before and after login, as Dovecot does: RFC 2221 §3 has it in the CAPABILITY response.
  if (input.loginReferrals) caps.push('LOGIN-REFERRALS');
  caps.push(`APPENDLIMIT=${input.maxMessageSize}`);
  // RFC 9738: the limits concern commands of the authenticated and selected states; like Stalwart,
  // they are offered once the client has logged in.
  if (input.state !== 'notAuthenticated') {
    if (input.messageLimit !== undefined) caps.push(`MESSAGELIMIT=${input.messageLimit}`);
    if (input.saveLimit !== undefined) caps.push(`SAVELIMIT=${input.saveLimit}`);
  }
  return caps;
}

/**
 * URLAUTH (RFC 4467) verification for URLs read by CATENATE and URLFETCH. Placeholder until the
 * mailbox access keys are kept by the store.
 */
import type { CommandContext } from './types.js';
import type { ImapUrl } from '../wire/imap-url.js';

export function urlauthVerifier(_ctx: CommandContext): ((url: ImapUrl) => Promise<string | null>) | undefined {
  return undefined;
}

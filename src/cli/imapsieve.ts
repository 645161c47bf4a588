/**
 * IMAP Sieve (RFC 6785) in `postroom serve`: scripts chosen per mailbox with SETMETADATA run on
 * APPEND, COPY/MOVE and flag changes. RFC 6785 §2.1 has the capability name the ManageSieve server
 * where users keep those scripts, so it is on when there is one to name — this serve's
 * (`managesievePort`) or another (`imapSieveUrl`) — unless `imapSieve` is false. docs/sieve.md.
 */
import os from 'node:os';
import type { Logger } from '../util/logger.js';
import type { ServeSettings } from '../config/settings.js';
import type { MailStore } from '../store/types.js';
import type { ImapSieve } from '../imapsieve/index.js';

/** RFC 5804 §1.8: the registered ManageSieve port, left out of the URL. */
const MANAGESIEVE_PORT = 4190;

export interface RunningImapSieve {
  /** For ImapServerOptions.messageEvents; undefined when IMAP Sieve is off. */
  listener: ImapSieve | undefined;
  close(): Promise<void>;
}

/** The URL IMAPSIEVE= advertises, or null when there is no ManageSieve server to name. */
export function imapSieveUrl(settings: ServeSettings, managesievePort: number | null): string | null {
  if (settings.imapSieveUrl) return settings.imapSieveUrl;
  if (managesievePort === null) return null;
  const host = settings.hostname ?? os.hostname();
  return `sieve://${host}${managesievePort === MANAGESIEVE_PORT ? '' : `:${managesievePort}`}`;
}

export async function startImapSieve(settings: ServeSettings, store: MailStore, managesievePort: number | null, logger: Logger): Promise<RunningImapSieve> {
  const url = settings.imapSieve ? imapSieveUrl(settings, managesievePort) : null;
  if (url === null) {
    if (settings.imapSieve) logger.info('IMAP Sieve is off: no ManageSieve server to advertise (set managesievePort or imapSieveUrl)');
    return { listener: undefined, close: async () => undefined };
  }
  const { createImapSieve } = await import('../imapsieve/index.js');
  const { createMailSender } = await import('../delivery/sender.js');
  const sender = settings.sieveRelay ? createMailSender(settings.sieveRelay) : undefined;
  const listener = createImapSieve({
    store,
    url,
    limits: settings.sieveLimits ?? {},
    ...(sender ? { sender } : {}),
    logger,
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    expungeDiscarded: settings.imapSieveExpunge,
  });
  return {
    listener,
    close: async () => {
      listener.close();
      await sender?.close();
    },
  };
}

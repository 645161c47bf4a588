/**
 * IMAP Sieve (RFC 6785): Sieve scripts run when an IMAP session stores a message (APPEND), copies
 * or moves one in (COPY), or changes its flags (FLAG) — an ImapEventListener for
 * createImapServer's `messageEvents` (src/imap/message-events.ts). The script is the one a
 * mailbox's /shared/imapsieve/script annotation names, or the user's server annotation of that
 * name (scripts.ts); each message is one run, with the delivery's limits (maxRunMilliseconds and
 * the rest, src/sieve/limits.ts); actions are carried out as carry-out.ts says. See docs/sieve.md,
 * "IMAP Sieve".
 *
 * A script never fails the IMAP command: a script that does not compile, a runtime error, a limit
 * or a failed action is logged for the user, and the message stays as stored.
 */
import os from 'node:os';
import { runSieve } from '../sieve/index.js';
import { resolveLimits } from '../sieve/limits.js';
import type { SieveEnvironment, SieveLimits } from '../sieve/types.js';
import type { MailSender } from '../delivery/sender.js';
import type { MailboxInfo, MailStore, UserMailbox } from '../store/types.js';
import { SILENT_LOGGER, type Logger } from '../util/logger.js';
import type { ImapEventListener, ImapMessageEvent } from '../imap/message-events.js';
import { ImapSieveScripts, type MailboxScript } from './scripts.js';
import { carryOut, current } from './carry-out.js';

export { IMAPSIEVE_ENTRY } from './scripts.js';

export interface ImapSieveOptions {
  /** The store the IMAP server serves (the scripts and annotations are read from it, the actions done in it). */
  store: MailStore;
  /**
   * RFC 6785 §2.1 sieveurl-server: the ManageSieve server where users keep their scripts, as
   * advertised in `IMAPSIEVE=<url>` — "sieve://host" or "sieve://host:port" (RFC 5804 §3).
   */
  url: string;
  /** The Sieve limits (as at delivery): each run is bounded by them. */
  limits?: Partial<SieveLimits>;
  /** Where redirect sends; without one a redirect is logged and the message stays. */
  sender?: MailSender;
  logger?: Logger;
  /** imap.email (§4.2) and redirect's MAIL FROM: default the user name when it is an address, else user@hostname. */
  email?: (user: string) => string;
  /** For the default `email`. Default os.hostname(). */
  hostname?: string;
  /**
   * RFC 6785 §2.2.4: a message the scripts did not keep (discard, fileinto or redirect without
   * :copy) is marked \Deleted; with this it is also expunged at once. Default false, as
   * Pigeonhole's imapsieve_expunge_discarded.
   */
  expungeDiscarded?: boolean;
  /** Users whose annotations and compiled scripts are kept between events. Default 10000. */
  cacheUsers?: number;
}

export interface ImapSieve extends ImapEventListener {
  /** Stops watching the users' change feeds. */
  close(): void;
}

/** Runs between two turns of the event loop while one event's messages are worked through. */
const YIELD_EVERY = 32;

/** RFC 5804 §3 sieveurl-server: "sieve://" authority, nothing after it. */
const SIEVE_URL = /^sieve:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(:\d{1,5})?\/?$/;

export function createImapSieve(options: ImapSieveOptions): ImapSieve {
  if (!SIEVE_URL.test(options.url)) throw new Error(`imapSieveUrl must be sieve://host or sieve://host:port (RFC 5804 §3), not ${JSON.stringify(options.url)}`);
  const url = options.url.replace(/\/$/, '');
  const limits = resolveLimits(options.limits);
  const logger = (options.logger ?? SILENT_LOGGER).child({ component: 'imapsieve' });
  const scripts = new ImapSieveScripts(options.store, limits, logger, options.cacheUsers ?? 10_000);
  const hostname = options.hostname ?? os.hostname();
  const email = options.email ?? ((user: string) => (user.includes('@') ? user : `${user}@${hostname}`));

  const runEvent = async (event: ImapMessageEvent, script: MailboxScript): Promise<void> => {
    // A handle of its own, opened without the session's origin: what the script changes raises no
    // event (§6) and reaches the session through the change feed as another session's change would.
    const mail = await options.store.open(event.user);
    try {
      const mailbox = (await mail.list()).find((m) => m.id === event.mailboxId);
      if (!mailbox) return;
      const context = { event, script, mail, mailbox, email: email(event.user) };
      const deadline = performance.now() + limits.maxEventMilliseconds;
      // §2.2: one run per message; in turn, so that a large COPY cannot start thousands at once.
      for (const [i, message] of event.messages.entries()) {
        if (performance.now() > deadline) {
          const left = event.messages.length - i;
          logger.warn({ user: event.user, mailbox: mailbox.name, script: script.name, cause: event.cause, left }, `IMAP Sieve: the event's runs took longer than ${limits.maxEventMilliseconds} ms (maxEventMilliseconds); the other messages stay as stored`);
          return;
        }
        // Other sessions get their turn between runs (a store in memory answers without yielding).
        if (i > 0 && i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
        await runMessage(context, message.uid, message.changedFlags ?? []);
      }
    } finally {
      await mail.close();
    }
  };

  const runMessage = async (
    c: { event: ImapMessageEvent; script: MailboxScript; mail: UserMailbox; mailbox: MailboxInfo; email: string },
    uid: number,
    changedFlags: readonly string[],
  ): Promise<void> => {
    const log = logger.child({ user: c.event.user, mailbox: c.mailbox.name, uid, script: c.script.name, cause: c.event.cause });
    try {
      const [record] = await c.mail.records(c.mailbox.id, [uid]);
      if (!record) return; // expunged meanwhile
      const bodyStart = (await c.mail.structure(c.mailbox.id, uid)).root.bodyStart;
      const header = await c.mail.read(c.mailbox.id, uid, { start: 0, end: bodyStart });
      const env: SieveEnvironment = {
        // §4.6: there is no envelope at an IMAP event (the envelope test fails the run).
        envelope: { from: '', to: '' },
        header,
        body: (max) => c.mail.read(c.mailbox.id, uid, { start: bodyStart, end: Math.min(record.size, bodyStart + max) }),
        size: record.size,
        mailboxExists: async (name) => {
          try {
            return !(await c.mail.get(name)).noselect;
          } catch {
            return false;
          }
        },
        userAddresses: [c.email],
        imap: { cause: c.event.cause, mailbox: c.mailbox.name, user: c.event.user, email: c.email, changedFlags, flags: current(record.flags) },
      };
      const outcome = await runSieve(c.script.script, env, limits);
      if (outcome.error) {
        log.warn({ error: outcome.error }, 'IMAP Sieve script failed at run time; the message stays as it is');
        return;
      }
      await carryOut(outcome.actions, { mail: c.mail, mailbox: c.mailbox, record, header, email: c.email, sender: options.sender, expungeDiscarded: options.expungeDiscarded ?? false, log });
    } catch (err) {
      log.error({ err }, 'IMAP Sieve could not act on the message; it stays as it is');
    }
  };

  return {
    capabilities: [`IMAPSIEVE=${url}`],
    async interested(user, mailboxId) {
      return (await scripts.forMailbox(user, mailboxId)) !== null;
    },
    async onMessages(event) {
      const script = await scripts.forMailbox(event.user, event.mailboxId);
      if (script) await runEvent(event, script);
    },
    close: () => scripts.clear(),
  };
}

/**
 * Which script runs for a mailbox's events (RFC 6785 §2.3.1): the mailbox's annotation
 * /shared/imapsieve/script when it has one, else the user's server annotation of that name, else
 * none. The choice is made before the value is looked at: an empty or unusable mailbox entry means
 * no script, the server entry is no fallback for it. The value names one of the user's ManageSieve
 * scripts (active or not); a name that is not there, or a script that does not compile, runs
 * nothing (the latter is logged).
 *
 * Asked before every write of an IMAP session (ImapEventListener.interested), so the answers are
 * kept per user — the annotations read, the scripts compiled — until the change feed reports a
 * change of the user's annotations or scripts (kinds 'metadata' and 'sieve'), or the user is the
 * least recently used of more than `maxUsers` (the same cache as delivery's active scripts).
 */
import { compileSieve } from '../sieve/index.js';
import type { SieveLimits, SieveScript } from '../sieve/types.js';
import { ActiveScriptCache } from '../delivery/active-scripts.js';
import { hasSieveStorage } from '../store/sieve-storage.js';
import { isStoreError } from '../store/errors.js';
import type { MailStore, UserMailbox } from '../store/types.js';
import type { Logger } from '../util/logger.js';

/** RFC 6785 §7.4 and §7.5: the mailbox entry and the server entry share the name. */
export const IMAPSIEVE_ENTRY = '/shared/imapsieve/script';

/** The script of a mailbox, compiled. */
export interface MailboxScript {
  name: string;
  script: SieveScript;
}

/** What is known of one user; dropped whole when the user's annotations or scripts change. */
class UserScripts {
  /** Script name by mailbox id, '' for the server entry; null: no entry; '' value: an empty entry. */
  readonly entries = new Map<string, Promise<string | null>>();
  /** Compiled scripts by name; null: none by that name, or it does not compile. */
  readonly scripts = new Map<string, Promise<MailboxScript | null>>();
}

export class ImapSieveScripts {
  private readonly users: ActiveScriptCache<UserScripts>;

  constructor(
    private readonly store: MailStore,
    private readonly limits: Partial<SieveLimits>,
    private readonly logger: Logger,
    maxUsers: number,
  ) {
    this.users = new ActiveScriptCache<UserScripts>(store, maxUsers, new Set(['metadata', 'sieve']));
  }

  /** The script for events of the user's mailbox, or null when none runs. */
  async forMailbox(user: string, mailboxId: string): Promise<MailboxScript | null> {
    const state = await this.users.get(user, async () => new UserScripts());
    const name = await this.remember(state.entries, mailboxId, () => this.scriptName(user, mailboxId));
    if (name === null || name === '') return null;
    return this.remember(state.scripts, name, () => this.compile(user, name));
  }

  /** Forgets everything and stops watching the users' feeds. */
  clear(): void {
    this.users.clear();
  }

  private remember<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let found = map.get(key);
    if (!found) {
      map.set(key, (found = load()));
      // A failed read is not kept: the next event asks again.
      found.catch(() => map.delete(key));
    }
    return found;
  }

  private async withHandle<T>(user: string, use: (mail: UserMailbox) => Promise<T>): Promise<T> {
    const mail = await this.store.open(user);
    try {
      return await use(mail);
    } finally {
      await mail.close();
    }
  }

  /** §2.3.1: the mailbox entry if there is one (its value, even empty), else the server entry. */
  private scriptName(user: string, mailboxId: string): Promise<string | null> {
    return this.withHandle(user, async (mail) => {
      if (!mail.getMetadata) return null;
      let own;
      try {
        own = await mail.getMetadata(mailboxId);
      } catch (err) {
        // Not one of the user's own mailboxes (another user's, through the shared namespace), or gone.
        if (isStoreError(err) && err.kind === 'nonexistent') return null;
        throw err;
      }
      const entry = own.find((e) => e.entry === IMAPSIEVE_ENTRY);
      if (entry) return entry.value.toString('utf8');
      const server = (await mail.getMetadata(null)).find((e) => e.entry === IMAPSIEVE_ENTRY);
      return server ? server.value.toString('utf8') : null;
    });
  }

  private compile(user: string, name: string): Promise<MailboxScript | null> {
    return this.withHandle(user, async (mail) => {
      if (!hasSieveStorage(mail)) return null;
      let source: string;
      try {
        source = await mail.sieveGet(name);
      } catch (err) {
        // §2.3.1: a name the ManageSieve server does not have runs nothing.
        if (isStoreError(err) && err.kind === 'nonexistent') return null;
        throw err;
      }
      const compiled = compileSieve(source, { limits: this.limits });
      if (!compiled.ok) {
        const e = compiled.errors[0]!;
        this.logger.error({ user, script: name, error: `line ${e.line}, column ${e.column}: ${e.message}` }, 'the IMAP Sieve script is not valid; it does not run');
        return null;
      }
      return { name, script: compiled.script };
    });
  }
}

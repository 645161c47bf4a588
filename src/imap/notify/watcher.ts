/**
 * One session's NOTIFY (RFC 5465) for the mailboxes other than the selected one. It listens to the
 * store's change feed — the same one a selected view and IDLE hear, so changes made by other
 * sessions, other `serve --workers` processes and cluster nodes arrive as far as that feed carries
 * them (MailStore.crossProcessChanges) — and keeps only what to report: the ids of mailboxes whose
 * counters changed and whether the mailbox list did. Reporting reads the store at that moment, so
 * a burst of changes to one mailbox costs one STATUS. The selected mailbox is its view's business.
 *
 * Mailboxes of other users (the shared namespace) that a filter names — SUBSCRIBED, SUBTREE,
 * MAILBOXES; never PERSONAL or INBOXES — are watched on their owner's feed, as a selected view of
 * one is (SharedMailView.watchFor). Only those the user can LIST are known at all (the shared view
 * lists nothing else), and events need the 'r' right too (§5); one with 'l' but not 'r' gets
 * `LIST (\NoAccess)` at NOTIFY time (§3.1).
 */
import type { ChangeListener, MailboxChange, MailboxInfo, MailStore, UserMailbox } from '../../store/types.js';
import { isSharedId, parseSharedId } from '../../store/sharing/names.js';
import { atom, type ImapValue } from '../wire/types.js';
import { astring } from '../wire/encoder.js';
import { mailboxNameValue } from '../commands/mailbox-name.js';
import { eventsFor, wantsServerMetadata, type NotifySpec } from './spec.js';
import { changeIsFor } from '../../store/metadata.js';

/** What the watcher needs from its connection. */
export interface NotifyHost {
  /** This session's id: changes with it as origin are the client's own (§5: SHOULD NOT be reported). */
  readonly sessionId: string;
  readonly enabled: ReadonlySet<string>;
  /** The id of the selected mailbox, if any. */
  selectedId(): string | undefined;
  untagged(...values: ImapValue[]): void;
  overflowed(): void;
  /** Something waits to be reported: the connection flushes when untagged responses may go out. */
  kick(): void;
  /** Backpressure and other sessions' turn between responses of a long report. */
  drain(): Promise<void>;
}

interface Known {
  name: string;
  noselect: boolean;
  subscribed: boolean;
  /** Another user's mailbox (shared namespace). */
  shared: boolean;
  /** The 'r' right (always, for the user's own). */
  readable: boolean;
}

type RoutedMail = UserMailbox & { watchFor?: (mailboxId: string, listener: ChangeListener) => () => void };

export class NotifyWatcher {
  private unwatch: (() => void) | null = null;
  /** Mailbox ids whose STATUS is due. */
  private readonly dirty = new Set<string>();
  private listDirty = false;
  private listDirtyByOthers = false;
  /** Changes heard since the last report; beyond maxQueued the session overflows (§5.8). */
  private queued = 0;
  private stopped = false;
  private known = new Map<string, Known>();
  private subscriptions = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  /**
   * Annotation names changed by others (RFC 5465 §5.6/§5.7), by mailbox id ('' for the server);
   * reported as `* METADATA "name" entry...` without values (RFC 5464 §4.4.2).
   */
  private readonly metadata = new Map<string, Set<string>>();
  /** Feeds of the owners of watched shared mailboxes, by owner. */
  private readonly ownerWatches = new Map<string, () => void>();

  constructor(
    private readonly host: NotifyHost,
    readonly spec: NotifySpec,
    private readonly store: MailStore,
    private readonly user: string,
    private readonly mail: UserMailbox,
    private readonly maxQueued: number,
  ) {}

  /** Starts listening, then takes the mailbox list the first differences are taken against. */
  async start(): Promise<void> {
    const listener: ChangeListener = (change) => this.heard(change);
    this.unwatch = this.store.watch(this.user, listener);
    await this.refreshList();
    // What changed while the list was read is reported against this list.
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    for (const off of this.ownerWatches.values()) off();
    this.ownerWatches.clear();
    this.dirty.clear();
    this.metadata.clear();
  }

  get active(): boolean {
    return !this.stopped;
  }

  hasPending(): boolean {
    return !this.stopped && (this.dirty.size > 0 || this.listDirty || this.metadata.size > 0);
  }

  private heard(change: MailboxChange): void {
    if (this.stopped) return;
    // A script change is no mailbox event; another user's own \Seen in this user's mailbox
    // (per-user \Seen, docs/sharing.md) is none of this user's business.
    // A URLAUTH key reset is told to the selected mailbox's sessions only (selected-view.ts).
    if (change.kind === 'sieve' || change.kind === 'urlauth') return;
    if (change.kind === 'flags' && change.viewer !== undefined && change.viewer !== this.user) return;
    if (change.kind === 'metadata') {
      // Another user's /private entries are theirs; the client's own SETMETADATA is not reported (§5).
      if (!changeIsFor(change, this.user) || change.origin === this.host.sessionId) return;
      const key = change.mailboxId ?? '';
      if (key === '' && !wantsServerMetadata(this.spec)) return;
      let names = this.metadata.get(key);
      if (!names) this.metadata.set(key, (names = new Set()));
      for (const e of change.entries) names.add(e);
    } else if (change.kind === 'mailboxes') {
      this.listDirty = true;
      if (change.origin !== this.host.sessionId) this.listDirtyByOthers = true;
    } else {
      this.dirty.add(change.mailboxId);
    }
    if (++this.queued > this.maxQueued) {
      this.stop();
      this.host.overflowed();
      return;
    }
    this.host.kick();
  }

  /** Reports what is pending; calls are serialised so reports never interleave. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.report());
    return this.flushing;
  }

  private async report(): Promise<void> {
    if (this.stopped) return;
    this.queued = 0;
    if (this.listDirty) {
      const byOthers = this.listDirtyByOthers;
      this.listDirty = false;
      this.listDirtyByOthers = false;
      const before = this.known;
      const subsBefore = this.subscriptions;
      await this.refreshList();
      if (byOthers && !this.stopped) this.reportListChanges(before, subsBefore);
    }
    this.reportMetadata();
    const ids = [...this.dirty];
    this.dirty.clear();
    const selected = this.host.selectedId();
    for (const id of ids) {
      if (this.stopped) return;
      if (id === selected) continue;
      const mailbox = this.known.get(id);
      if (!mailbox || mailbox.noselect || !mailbox.readable) continue;
      const events = this.eventsOf(mailbox);
      if (!events.has('MessageNew') && !events.has('FlagChange')) continue;
      await this.writeStatus(id, mailbox.name);
    }
  }

  /**
   * MailboxMetadataChange (§5.6) for mailboxes a filter takes in — the selected one too, as its
   * group cannot ask for mailbox events (§6.1) — and ServerMetadataChange (§5.7). Entry names only.
   */
  private reportMetadata(): void {
    const pending = [...this.metadata];
    this.metadata.clear();
    for (const [id, names] of pending) {
      if (names.size === 0) continue;
      let name = '';
      if (id !== '') {
        const mailbox = this.known.get(id);
        if (!mailbox || !this.eventsOf(mailbox).has('MailboxMetadataChange')) continue;
        name = mailbox.name;
      }
      this.host.untagged(atom('METADATA'), id === '' ? '' : mailboxNameValue(name, this.host.enabled), ...[...names].sort().map((e) => astring(e)));
    }
  }

  private eventsOf(mailbox: Known): ReturnType<typeof eventsFor> {
    return eventsFor(this.spec, mailbox.name, mailbox.subscribed, this.delimiter, mailbox.shared);
  }

  /** §3.1: a watched mailbox the user can LIST but not read is answered `LIST (\NoAccess)`. */
  noAccessLists(): void {
    for (const mailbox of this.known.values()) {
      if (mailbox.readable || mailbox.noselect || this.eventsOf(mailbox).size === 0) continue;
      const delimiter = this.delimiter === '' ? null : this.delimiter;
      this.host.untagged(atom('LIST'), [atom('\\NoAccess')], delimiter, mailboxNameValue(mailbox.name, this.host.enabled));
    }
  }

  /** The STATUS for every watched mailbox with message events (the STATUS indicator, §3.1). */
  async initialStatus(): Promise<number> {
    const selected = this.host.selectedId();
    let n = 0;
    for (const [id, mailbox] of this.known) {
      if (this.stopped) break;
      if (id === selected || mailbox.noselect || !mailbox.readable) continue;
      const events = this.eventsOf(mailbox);
      if (!events.has('MessageNew') && !events.has('FlagChange')) continue;
      await this.writeStatus(id, mailbox.name);
      if (++n % 100 === 0) await this.host.drain();
    }
    return n;
  }

  private get delimiter(): string {
    return this.store.delimiter;
  }

  /**
   * MESSAGES UIDNEXT UIDVALIDITY UNSEEN, and HIGHESTMODSEQ once CONDSTORE is on: one answer for
   * MessageNew, MessageExpunge and FlagChange alike (§5.1–5.3 ask for subsets of it; UNSEEN is what
   * lets a client without CONDSTORE see a flag change, as Dovecot does).
   */
  private async writeStatus(id: string, name: string): Promise<void> {
    let status;
    try {
      status = await this.mail.status(id);
    } catch {
      return; // Deleted since: its MailboxName event (if asked for) says so.
    }
    if (this.stopped) return;
    const values: ImapValue[] = [atom('MESSAGES'), status.messages, atom('UIDNEXT'), status.uidNext, atom('UIDVALIDITY'), status.uidValidity, atom('UNSEEN'), status.unseen];
    if (this.host.enabled.has('CONDSTORE')) values.push(atom('HIGHESTMODSEQ'), status.highestModseq);
    this.host.untagged(atom('STATUS'), mailboxNameValue(name, this.host.enabled), values);
  }

  private async refreshList(): Promise<void> {
    const [list, subs] = await Promise.all([this.mail.list(), this.mail.subscriptions()]);
    const subscribed = new Set(subs);
    const known = new Map<string, Known>();
    for (const m of list as MailboxInfo[]) {
      const shared = isSharedId(m.id);
      const mailbox: Known = { name: m.name, noselect: m.noselect, subscribed: subscribed.has(m.name), shared, readable: !shared || (m.myRights ?? '').includes('r') };
      // Another user's mailbox is known only if a filter takes it in: the shared namespace may be large.
      if (shared && this.eventsOf(mailbox).size === 0) continue;
      known.set(m.id, mailbox);
      if (shared) this.watchOwner(m.id);
    }
    this.known = known;
    this.subscriptions = subscribed;
  }

  /** Listens to the feed of a shared mailbox's owner, once per owner (its ids come back translated). */
  private watchOwner(sharedMailboxId: string): void {
    const owner = parseSharedId(sharedMailboxId)?.owner;
    const routed = (this.mail as RoutedMail).watchFor;
    if (this.stopped || !owner || this.ownerWatches.has(owner) || !routed) return;
    this.ownerWatches.set(owner, routed.call(this.mail, sharedMailboxId, (change) => this.heard(change)));
  }

  /** MailboxName (§5.4) and SubscriptionChange (§5.5) as LIST responses, from the lists' difference. */
  private reportListChanges(before: Map<string, Known>, subsBefore: Set<string>): void {
    const wants = (name: string, subscribed: boolean, event: 'MailboxName' | 'SubscriptionChange', shared = isSharedName(name)): boolean =>
      eventsFor(this.spec, name, subscribed, this.delimiter, shared).has(event);
    // A name no longer (or not) in the list: shared if a known shared mailbox had it.
    const sharedNames = new Set([...before.values(), ...this.known.values()].filter((m) => m.shared).map((m) => m.name));
    const isSharedName = (name: string): boolean => sharedNames.has(name);
    const byName = new Map([...this.known.values()].map((m) => [m.name, m] as const));
    const names = new Set(byName.keys());
    const written = new Set<string>();
    const list = (name: string, oldName?: string): void => {
      if (written.has(name)) return;
      written.add(name);
      this.writeList(name, byName.get(name) ?? null, names, oldName);
    };
    // §5.4: a created or deleted mailbox and its direct parent, whether that exists or not.
    const withParent = (name: string): void => {
      const mailbox = byName.get(name);
      if (wants(name, mailbox?.subscribed ?? false, 'MailboxName')) list(name);
      // The parent of another user's mailbox may be that user's namespace root: not a mailbox event.
      if (isSharedName(name)) return;
      const cut = this.delimiter ? name.lastIndexOf(this.delimiter) : -1;
      if (cut <= 0) return;
      const parent = name.slice(0, cut);
      if (wants(parent, byName.get(parent)?.subscribed ?? false, 'MailboxName')) list(parent);
    };
    // New names of renamed mailboxes: a rename whose new name lies under another's is that one's child.
    const renamedTo = new Set<string>();
    for (const [id, now] of this.known) {
      const was = before.get(id);
      if (was && was.name !== now.name) renamedTo.add(now.name);
    }
    const underRenamed = (name: string): boolean => {
      if (!this.delimiter) return false;
      for (let cut = name.lastIndexOf(this.delimiter); cut > 0; cut = name.lastIndexOf(this.delimiter, cut - 1)) {
        if (renamedTo.has(name.slice(0, cut))) return true;
      }
      return false;
    };
    for (const [id, now] of this.known) {
      const was = before.get(id);
      if (!was) withParent(now.name);
      else if (was.name !== now.name) {
        // §5.4: one LIST for the new name with OLDNAME; the children follow silently.
        if (!underRenamed(now.name) && was.name !== 'INBOX' && (wants(now.name, now.subscribed, 'MailboxName') || wants(was.name, was.subscribed, 'MailboxName'))) {
          list(now.name, was.name);
        }
      }
    }
    for (const [id, was] of before) {
      if (this.known.has(id)) continue;
      // Renamed INBOX: the new INBOX (a new id) is "assumed created" with no event of its own (§5.4).
      if (was.name === 'INBOX') continue;
      // A child renamed along with its parent is not a deletion.
      if (byName.has(was.name)) continue;
      withParent(was.name);
    }
    const allSubs = new Set([...subsBefore, ...this.subscriptions]);
    for (const name of allSubs) {
      const now = this.subscriptions.has(name);
      if (subsBefore.has(name) === now) continue;
      if (!wants(name, true, 'SubscriptionChange') && !wants(name, false, 'SubscriptionChange')) continue;
      list(name);
    }
  }

  private writeList(name: string, mailbox: Known | null, names: Set<string>, oldName?: string): void {
    const attributes: string[] = [];
    if (!mailbox) attributes.push('\\NonExistent');
    else {
      if (mailbox.noselect) attributes.push('\\Noselect');
      const prefix = name + this.delimiter;
      attributes.push([...names].some((n) => n.startsWith(prefix)) ? '\\HasChildren' : '\\HasNoChildren');
    }
    if (this.subscriptions.has(name)) attributes.push('\\Subscribed');
    const delimiter = this.delimiter === '' ? null : this.delimiter;
    const values: ImapValue[] = [atom('LIST'), attributes.map(atom), delimiter, mailboxNameValue(name, this.host.enabled)];
    if (oldName !== undefined) values.push(['OLDNAME', [mailboxNameValue(oldName, this.host.enabled)]]);
    this.host.untagged(...values);
  }
}

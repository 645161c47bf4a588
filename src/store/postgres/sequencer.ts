/**
 * One mailbox's changes, published in commit order on one node.
 *
 * Every write to a mailbox raises its highest_modseq by exactly one under the mailbox row's lock,
 * so modseq k is the k-th committed write, whichever node made it. `cursor` says every change up
 * to it has been published here. Our own writes reserve their modseq before COMMIT and are
 * published (with their origin) when the cursor reaches them; the modseqs in between belong to
 * other nodes and are read from the tables (catch-up), never taken from a notification's payload.
 * So a session hears its mailbox's changes in the order they happened, whichever node made them,
 * and never hears its own change as someone else's.
 */
import type { FlagChange, MailboxChange } from '../types.js';

/** What a catch-up read: the mailbox's current highest modseq and every row changed after the cursor. */
export interface CatchUpRows {
  highest: number;
  messages: Array<{ uid: number; flags: string; modseq: number; created: number }>;
  expunged: Array<{ uid: number; modseq: number }>;
  /**
   * Other users' own \Seen changed after the cursor (per-user \Seen, private_seen), with the
   * message's flags: published as a `flags` change for that viewer only.
   */
  privateSeen?: Array<{ uid: number; viewer: string; seen: boolean; flags: string; modseq: number }>;
}

export interface SequencerHost {
  /** Null when the mailbox no longer exists. */
  catchUp(mailboxId: number, after: number): Promise<CatchUpRows | null>;
  publish(user: string, change: MailboxChange): void;
  /** True while someone on this node listens to the user's changes (else remote changes are not read). */
  watched(user: string): boolean;
  parseFlags(stored: string): string[];
  onCatchUpError(error: unknown, sequencer: MailboxSequencer): void;
  /** The sequencer has nothing left to do and nobody to tell. */
  idle(sequencer: MailboxSequencer): void;
}

export class Reservation {
  state: 'pending' | 'committed' | 'aborted' = 'pending';
  changes: MailboxChange[] = [];
  private resolvePublished!: () => void;
  readonly published = new Promise<void>((resolve) => (this.resolvePublished = resolve));

  constructor(
    readonly sequencer: MailboxSequencer,
    readonly modseq: number,
  ) {}

  /** The write committed: publish its changes in order. Resolves once they are published. */
  commit(changes: MailboxChange[]): Promise<void> {
    if (this.state !== 'pending') return this.published;
    this.state = 'committed';
    this.changes = changes;
    this.sequencer.settled(this);
    return this.published;
  }

  /** The write rolled back (or its outcome is unknown): the tables will say what happened. */
  abort(): void {
    if (this.state !== 'pending') return;
    this.state = 'aborted';
    this.sequencer.settled(this);
    this.resolvePublished();
  }

  /** @internal */ markPublished(): void {
    this.resolvePublished();
  }
}

const RETRY_MS = [100, 250, 500, 1000, 2000, 5000];

export class MailboxSequencer {
  private readonly reservations = new Map<number, Reservation>();
  /** Our own writes published out of order while the database could not be read (see publishAhead). */
  private readonly publishedAhead = new Set<number>();
  private waiters: Array<{ modseq: number; resolve: () => void }> = [];
  private behind = false;
  private pumping = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  dropped = false;

  constructor(
    readonly user: string,
    readonly mailboxId: number,
    public cursor: number,
    private readonly host: SequencerHost,
  ) {}

  /** Called before COMMIT, under the mailbox row's lock, with the modseq the write took. */
  reserve(modseq: number): Reservation {
    const r = new Reservation(this, modseq);
    // At or below the cursor only if this sequencer began from a read that already saw the write:
    // then it is published as soon as it commits.
    if (modseq > this.cursor) this.reservations.set(modseq, r);
    return r;
  }

  /** @internal */ settled(r: Reservation): void {
    if (this.dropped || !this.reservations.has(r.modseq)) {
      if (r.state === 'committed') this.publishReservation(r);
      this.reservations.delete(r.modseq);
      return;
    }
    if (r.state === 'aborted') {
      this.reservations.delete(r.modseq);
      this.behind = true;
    }
    void this.pump();
  }

  /** Another node changed the mailbox (a hint), or a reconnect may have lost some hints. */
  poke(): void {
    this.behind = true;
    void this.pump();
  }

  /** Resolves once every change up to `modseq` has been published here. */
  syncTo(modseq: number): Promise<void> {
    if (this.cursor >= modseq || this.dropped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ modseq, resolve });
      this.poke();
    });
  }

  get busy(): boolean {
    return this.reservations.size > 0 || this.waiters.length > 0 || this.pumping || this.behind;
  }

  drop(): void {
    this.dropped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Our own committed writes still reach their watchers; pending ones publish when they settle.
    for (const r of [...this.reservations.values()].sort((a, b) => a.modseq - b.modseq)) {
      if (r.state === 'committed') this.publishReservation(r);
    }
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private publishReservation(r: Reservation): void {
    if (this.reservations.get(r.modseq) === r) this.reservations.delete(r.modseq);
    for (const change of r.changes) this.host.publish(this.user, change);
    r.markPublished();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.dropped) {
        const next = this.cursor + 1;
        const own = this.reservations.get(next);
        if (own) {
          if (own.state === 'pending') return; // resumes when it settles
          this.cursor = next;
          this.publishReservation(own);
          this.wake();
          continue;
        }
        const lowestOwn = this.lowestReservation();
        const waiting = this.waiters.length > 0;
        // A reservation beyond the next modseq means another node committed in between.
        if (!this.behind && !waiting && lowestOwn === undefined) break;
        if (!this.behind && !waiting && lowestOwn !== undefined && lowestOwn <= next) break;
        if (!this.host.watched(this.user) && !waiting) {
          // Nobody here listens: skip other nodes' changes and publish our own as they commit.
          this.behind = false;
          if (lowestOwn === undefined) break;
          this.cursor = lowestOwn - 1;
          continue;
        }
        this.behind = false;
        let rows: CatchUpRows | null;
        try {
          rows = await this.host.catchUp(this.mailboxId, this.cursor);
        } catch (err) {
          this.failed(err);
          return;
        }
        this.failures = 0;
        if (rows === null) {
          this.drop();
          break;
        }
        this.apply(rows);
        this.wake(rows.highest);
      }
    } finally {
      this.pumping = false;
      if (!this.dropped && !this.busy) this.host.idle(this);
    }
  }

  private lowestReservation(): number | undefined {
    let lowest: number | undefined;
    for (const m of this.reservations.keys()) if (m > this.cursor && (lowest === undefined || m < lowest)) lowest = m;
    return lowest;
  }

  /** Publishes what other nodes did between the cursor and our next own write (or the end). */
  private apply(rows: CatchUpRows): void {
    const from = this.cursor;
    const lowestOwn = this.lowestReservation();
    const bound = Math.min(rows.highest, lowestOwn === undefined ? Infinity : lowestOwn - 1);
    // Whatever the read saw beyond the bound (other nodes' writes after our next own one) has
    // had its hint already: remember to read it again once our own write is published.
    if (rows.highest > bound) this.behind = true;
    if (bound <= from) return;
    const inRange = (m: number): boolean => m > from && m <= bound && !this.publishedAhead.has(m);
    const added: number[] = [];
    const changed: FlagChange[] = [];
    for (const m of rows.messages) {
      if (m.created > from) {
        if (inRange(m.created)) added.push(m.uid);
      } else if (inRange(m.modseq)) {
        changed.push({ uid: m.uid, flags: this.host.parseFlags(m.flags), modseq: m.modseq });
      }
    }
    const byViewer = new Map<string, FlagChange[]>();
    for (const p of rows.privateSeen ?? []) {
      if (!inRange(p.modseq)) continue;
      const rest = this.host.parseFlags(p.flags).filter((f) => f !== '\\Seen');
      let list = byViewer.get(p.viewer);
      if (!list) byViewer.set(p.viewer, (list = []));
      list.push({ uid: p.uid, flags: p.seen ? ['\\Seen', ...rest] : rest, modseq: p.modseq });
    }
    const gone = rows.expunged.filter((x) => inRange(x.modseq)).map((x) => x.uid);
    const mailboxId = String(this.mailboxId);
    added.sort((a, b) => a - b);
    changed.sort((a, b) => a.uid - b.uid);
    gone.sort((a, b) => a - b);
    if (added.length) this.host.publish(this.user, { kind: 'exists', mailboxId, uids: added });
    if (changed.length) this.host.publish(this.user, { kind: 'flags', mailboxId, changes: changed });
    for (const [viewer, list] of byViewer) this.host.publish(this.user, { kind: 'flags', mailboxId, changes: list.sort((a, b) => a.uid - b.uid), viewer });
    if (gone.length) this.host.publish(this.user, { kind: 'expunge', mailboxId, uids: gone });
    this.cursor = bound;
    for (const m of this.publishedAhead) if (m <= bound) this.publishedAhead.delete(m);
  }

  /** Lets go of waiters the cursor reached (or that wait for more than the database holds). */
  private wake(highest = Infinity): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.cursor >= w.modseq || w.modseq > highest ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /**
   * The database could not be read. Our own committed writes must not wait for it (their commands
   * would hang), so they are published now, out of order, and remembered, so the catch-up that
   * follows does not report them again. Waiters are let go; the catch-up is retried with backoff.
   */
  private failed(err: unknown): void {
    this.host.onCatchUpError(err, this);
    for (const r of [...this.reservations.values()].sort((a, b) => a.modseq - b.modseq)) {
      if (r.state !== 'committed') continue;
      this.publishedAhead.add(r.modseq);
      this.publishReservation(r);
    }
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    this.behind = true;
    const delay = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)]!;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.pump();
    }, delay);
    this.retryTimer.unref();
  }
}

/**
 * The change feed of a store shared by several nodes.
 *
 * Local writes are published to local watchers before the write's promise resolves, tagged with
 * their origin, exactly like ChangeFeed in a single process. Other nodes' writes arrive as
 * PostgreSQL notifications sent at COMMIT (`NOTIFY postroom_changes`), which carry only a hint —
 * user, mailbox id, modseq — and make the mailbox's sequencer read what changed from the tables.
 * A notification can be lost (the LISTEN connection drops, or this node was busy reconnecting):
 * every reconnect, and a periodic check of each followed mailbox's highest modseq, make the
 * sequencers catch up from the last modseq they published. Nothing in a payload is trusted.
 *
 * Only mailboxes of users someone on this node watches are followed, from the first read or write
 * of them here (snapshot() starts following at the modseq it saw).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import pg from 'pg';
import { ChangeFeed } from '../change-feed.js';
import type { ChangeListener, MailboxChange } from '../types.js';
import { parseFlags } from '../sqlite/flags.js';
import { clientConfig, type ConnectionOptions, type Queryable } from './db.js';
import { MailboxSequencer, type CatchUpRows, type Reservation, type SequencerHost } from './sequencer.js';

export const CHANGES_CHANNEL = 'postroom_changes';

/** What a notification carries: a hint, never the change itself. */
interface Hint {
  /** The node that made the change (a node skips its own). */
  n: string;
  u: string;
  /** Mailbox id and its modseq after the change; absent for a change of the mailbox tree. */
  m?: number;
  s?: number;
  /**
   * 'sieve': the user's Sieve scripts changed (no mailbox; m and s absent). 'urlauth': the URLAUTH
   * key of v for a mailbox was reset (m), or all of v's keys (no m).
   */
  k?: 'sieve' | 'metadata' | 'urlauth';
  /** 'metadata': the annotation names written, and whose /private entries they are (v); 'urlauth': whose key. */
  e?: string[];
  v?: string;
}

/** pg_notify payloads must stay under 8000 bytes: the names of a larger write are left out. */
const MAX_HINT_ENTRIES_BYTES = 6000;

export interface ClusterFeedOptions {
  connection: ConnectionOptions;
  logger?: Logger;
  /** How often followed mailboxes are checked for changes whose notification was lost (default 30 s). */
  checkIntervalMs?: number;
}

const RECONNECT_MS = [100, 200, 500, 1000, 2000, 5000];

export class ClusterFeed implements SequencerHost {
  readonly nodeId = randomUUID();
  private readonly local: ChangeFeed;
  private readonly watchers = new Map<string, number>();
  private readonly sequencers = new Map<number, MailboxSequencer>();
  private listener: pg.Client | undefined;
  private reconnecting = false;
  private reconnectAttempts = 0;
  private closed = false;
  private checkTimer: NodeJS.Timeout | undefined;
  /** Hints from other nodes received so far (diagnostics). */
  readonly notificationsReceived = { count: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: ClusterFeedOptions,
  ) {
    this.local = new ChangeFeed({ onListenerError: (err) => options.logger?.error({ err }, 'change listener failed') });
  }

  /** Connects the LISTEN connection; fails (so the store does not open) when the database cannot be reached. */
  async start(): Promise<void> {
    await this.connectListener();
    const every = this.options.checkIntervalMs ?? 30_000;
    this.checkTimer = setInterval(() => void this.checkFollowed(), every);
    this.checkTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.checkTimer) clearInterval(this.checkTimer);
    for (const s of this.sequencers.values()) s.drop();
    this.sequencers.clear();
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  watch(user: string, listener: ChangeListener): () => void {
    this.watchers.set(user, (this.watchers.get(user) ?? 0) + 1);
    const stop = this.local.watch(user, listener);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      stop();
      const left = (this.watchers.get(user) ?? 1) - 1;
      if (left > 0) {
        this.watchers.set(user, left);
        return;
      }
      this.watchers.delete(user);
      for (const s of [...this.sequencers.values()]) if (s.user === user && !s.busy) this.idle(s);
    };
  }

  watched(user: string): boolean {
    return this.watchers.has(user);
  }

  /** Publishes a change that needs no ordering against other nodes (the mailbox tree). */
  publishNow(user: string, change: MailboxChange): void {
    this.local.publish(user, change);
  }

  /**
   * Called inside a write transaction, right after the mailbox row update that took `modseq`
   * (the row lock is held until COMMIT). The returned reservation is committed or aborted by the
   * caller once the transaction's outcome is known.
   */
  reserve(user: string, mailboxId: number, modseq: number): Reservation {
    return this.sequencerFor(user, mailboxId, modseq - 1).reserve(modseq);
  }

  /**
   * Waits until every change up to `modseq` (what a snapshot just read) has been published here,
   * so a session that builds its view from that snapshot hears every later change, in order.
   */
  async syncTo(user: string, mailboxId: number, modseq: number): Promise<void> {
    if (!this.watched(user)) return;
    await this.sequencerFor(user, mailboxId, modseq).syncTo(modseq);
  }

  /** SQL and parameters that queue a hint for other nodes; delivered by PostgreSQL at COMMIT only. */
  async notify(tx: Queryable, user: string, mailboxIds: ReadonlyArray<readonly [number, number]>, tree = false): Promise<void> {
    const payloads: string[] = mailboxIds.map(([m, s]) => JSON.stringify({ n: this.nodeId, u: user, m, s } satisfies Hint));
    if (tree) payloads.push(JSON.stringify({ n: this.nodeId, u: user } satisfies Hint));
    if (payloads.length === 0) return;
    await tx.query(`SELECT pg_notify('${CHANGES_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [payloads]);
  }

  /** Queues the hint that the user's Sieve scripts changed (delivered by PostgreSQL at COMMIT only). */
  async notifySieve(tx: Queryable, user: string): Promise<void> {
    await tx.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [JSON.stringify({ n: this.nodeId, u: user, k: 'sieve' } satisfies Hint)]);
  }

  /**
   * Queues the hint that a URLAUTH key was reset (delivered at COMMIT only), on `user`'s feed (the
   * mailbox's owner): `holder`'s key of the mailbox, or without `mailboxId` all the keys `holder` has.
   */
  async notifyUrlauth(tx: Queryable, user: string, holder: string, mailboxId?: number): Promise<void> {
    const hint: Hint = { n: this.nodeId, u: user, k: 'urlauth', v: holder };
    if (mailboxId !== undefined) hint.m = mailboxId;
    await tx.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [JSON.stringify(hint)]);
  }

  /**
   * Queues the hint of an annotation change (delivered at COMMIT only); `m` is absent for the
   * server scope. Names beyond the payload budget are left out — the change is still heard, with
   * the names that fit (RFC 5465 §5.6 allows reporting more or fewer names).
   */
  async notifyMetadata(tx: Queryable, user: string, change: Extract<MailboxChange, { kind: 'metadata' }>): Promise<void> {
    const entries: string[] = [];
    let bytes = 0;
    for (const e of change.entries) {
      bytes += Buffer.byteLength(e) + 3;
      if (bytes > MAX_HINT_ENTRIES_BYTES) break;
      entries.push(e);
    }
    const hint: Hint = { n: this.nodeId, u: user, k: 'metadata', e: entries };
    if (change.mailboxId !== undefined) hint.m = Number(change.mailboxId);
    if (change.viewer !== undefined) hint.v = change.viewer;
    await tx.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [JSON.stringify(hint)]);
  }

  // --- SequencerHost ------------------------------------------------------------------------

  async catchUp(mailboxId: number, after: number): Promise<CatchUpRows | null> {
    // One statement, so the mailbox's modseq and the rows come from one snapshot.
    const { rows } = await this.pool.query<{
      k: string;
      uid: number | null;
      flags: string | null;
      modseq: number;
      created: number | null;
      viewer: string | null;
      seen: boolean | null;
    }>(
      `SELECT 'h' AS k, NULL::bigint AS uid, NULL::text AS flags, highest_modseq AS modseq, NULL::bigint AS created, NULL::text AS viewer, NULL::boolean AS seen
         FROM mailboxes WHERE id = $1
       UNION ALL
       SELECT 'm', uid, flags, modseq, created_modseq, NULL, NULL FROM messages WHERE mailbox_id = $1 AND modseq > $2
       UNION ALL
       SELECT 'x', uid, NULL, modseq, NULL, NULL, NULL FROM expunged WHERE mailbox_id = $1 AND modseq > $2
       UNION ALL
       SELECT 'p', p.uid, m.flags, p.modseq, NULL, p.viewer, p.seen
         FROM private_seen p JOIN messages m ON m.mailbox_id = p.mailbox_id AND m.uid = p.uid
        WHERE p.mailbox_id = $1 AND p.modseq > $2`,
      [mailboxId, after],
    );
    const head = rows.find((r) => r.k === 'h');
    if (head === undefined) return null;
    const out: CatchUpRows = { highest: head.modseq, messages: [], expunged: [], privateSeen: [] };
    for (const r of rows) {
      if (r.k === 'm') out.messages.push({ uid: r.uid!, flags: r.flags!, modseq: r.modseq, created: r.created! });
      else if (r.k === 'x') out.expunged.push({ uid: r.uid!, modseq: r.modseq });
      else if (r.k === 'p') out.privateSeen!.push({ uid: r.uid!, flags: r.flags!, modseq: r.modseq, viewer: r.viewer!, seen: r.seen! });
    }
    return out;
  }

  publish(user: string, change: MailboxChange): void {
    this.local.publish(user, change);
  }

  parseFlags(stored: string): string[] {
    return parseFlags(stored);
  }

  onCatchUpError(error: unknown, sequencer: MailboxSequencer): void {
    this.options.logger?.warn({ err: error, mailbox: sequencer.mailboxId }, 'change feed could not read the database; retrying');
  }

  idle(sequencer: MailboxSequencer): void {
    if (this.watched(sequencer.user) || sequencer.busy) return;
    if (this.sequencers.get(sequencer.mailboxId) === sequencer) this.sequencers.delete(sequencer.mailboxId);
    sequencer.drop();
  }

  // --- internals ----------------------------------------------------------------------------

  private sequencerFor(user: string, mailboxId: number, cursor: number): MailboxSequencer {
    let s = this.sequencers.get(mailboxId);
    if (!s || s.dropped) {
      s = new MailboxSequencer(user, mailboxId, cursor, this);
      this.sequencers.set(mailboxId, s);
    }
    return s;
  }

  private onHint(payload: string | undefined): void {
    let hint: Hint;
    try {
      hint = JSON.parse(payload ?? '') as Hint;
    } catch {
      return;
    }
    if (typeof hint !== 'object' || hint === null || hint.n === this.nodeId || typeof hint.u !== 'string') return;
    this.notificationsReceived.count++;
    if (!this.watched(hint.u)) return;
    if (hint.k === 'sieve') {
      this.local.publish(hint.u, { kind: 'sieve' });
      return;
    }
    if (hint.k === 'urlauth') {
      const change: MailboxChange = { kind: 'urlauth' };
      if (typeof hint.m === 'number') change.mailboxId = String(hint.m);
      if (typeof hint.v === 'string') change.viewer = hint.v;
      this.local.publish(hint.u, change);
      return;
    }
    if (hint.k === 'metadata') {
      const entries = Array.isArray(hint.e) ? hint.e.filter((e): e is string => typeof e === 'string') : [];
      const change: MailboxChange = { kind: 'metadata', entries };
      if (typeof hint.m === 'number') change.mailboxId = String(hint.m);
      if (typeof hint.v === 'string') change.viewer = hint.v;
      this.local.publish(hint.u, change);
      return;
    }
    if (typeof hint.m !== 'number') {
      this.local.publish(hint.u, { kind: 'mailboxes' });
      return;
    }
    const existing = this.sequencers.get(hint.m);
    if (existing && !existing.dropped) {
      if (typeof hint.s !== 'number' || hint.s > existing.cursor) existing.poke();
      return;
    }
    // Not followed yet: start just before the hinted change (a starting point, not trusted data:
    // the catch-up reads what is really there).
    if (typeof hint.s === 'number' && hint.s >= 1) this.sequencerFor(hint.u, hint.m, hint.s - 1).poke();
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client(clientConfig(this.options.connection));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGES_CHANNEL) this.onHint(msg.payload);
    });
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    this.listener = client;
  }

  private listenerLost(client: pg.Client, err?: Error): void {
    if (this.closed || this.listener !== client) return;
    this.listener = undefined;
    this.options.logger?.warn({ err }, 'lost the change-feed connection to PostgreSQL; reconnecting');
    client.end().catch(() => undefined);
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      while (!this.closed) {
        const delay = RECONNECT_MS[Math.min(this.reconnectAttempts++, RECONNECT_MS.length - 1)]!;
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        if (this.closed) return;
        try {
          await this.connectListener();
        } catch (err) {
          this.options.logger?.debug({ err }, 'change-feed reconnect failed');
          continue;
        }
        this.reconnectAttempts = 0;
        this.options.logger?.info('change-feed connection to PostgreSQL restored; catching up');
        // Hints sent while we were away are lost: read every followed mailbox again, and tell
        // every watcher its mailbox tree may have changed.
        for (const s of this.sequencers.values()) s.poke();
        for (const user of this.watchers.keys()) {
          this.local.publish(user, { kind: 'mailboxes' });
          // Script changes while the LISTEN connection was down were not heard either.
          this.local.publish(user, { kind: 'sieve' });
        }
        return;
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** The safety net for hints lost without a reconnect: compare each followed mailbox's modseq. */
  private async checkFollowed(): Promise<void> {
    if (this.sequencers.size === 0 || this.closed) return;
    const ids = [...this.sequencers.keys()];
    try {
      const { rows } = await this.pool.query<{ id: number; highest_modseq: number }>(
        'SELECT id, highest_modseq FROM mailboxes WHERE id = ANY($1::bigint[])',
        [ids],
      );
      const highest = new Map(rows.map((r) => [r.id, r.highest_modseq]));
      for (const id of ids) {
        const s = this.sequencers.get(id);
        if (s && (highest.get(id) ?? Infinity) > s.cursor) s.poke();
      }
    } catch (err) {
      this.options.logger?.debug({ err }, 'change-feed check failed');
    }
  }

  /** For tests and diagnostics. */
  followedMailboxes(): number {
    return this.sequencers.size;
  }

  listenerConnected(): boolean {
    return this.listener !== undefined;
  }
}

/**
 * The change feed between the processes of `serve --workers N --sqlite-workers own-store`, where
 * each worker opens the SQLite store itself (docs/sqlite.md, "Several processes on one data
 * folder"): a change committed in one process must reach the sessions of that user in the others —
 * an IDLE in one worker hears an APPEND made in another, delivery (in the primary) hears of Sieve
 * scripts stored through a worker. The primary is the hub: each worker sends it every change it
 * publishes; the primary delivers each change to its own listeners and sends it on to every other
 * worker; its own changes (delivery, the control socket) go to every worker. Not only to the
 * workers that watch the user, as the forwarded store's events do (store/remote/store-server.ts):
 * a worker's "I watch this user now" and another worker's change committed just after it come
 * over two channels with no order between them, so the primary could hear the change first and
 * drop it — a session that had read its mailbox before that commit would never hear of it (seen
 * under `npm run stress`: STOREs and FETCHes of messages another worker had expunged, never
 * reported); and hibernating sessions drop and take their user's watch all the time. A change
 * arrives after its commit, possibly after the receiving session has already
 * read it: sessions take that in stride (a late 'exists' for a UID already known is ignored, flag
 * changes carry their modseq), as on PostgreSQL, whose nodes hear each other the same way.
 */
import type { Worker } from 'node:cluster';
import type { MailboxChange } from '../store/types.js';
import type { FeedRelay } from '../store/change-feed.js';

type FeedChange = { t: 'feed'; user: string; change: MailboxChange };

function isFeedChange(m: unknown): m is FeedChange {
  return (m as { t?: unknown } | null)?.t === 'feed';
}

/** A store whose change feed can be relayed (SqliteStore.relayChanges). */
export interface RelayedStore {
  relayChanges(relay: FeedRelay): (user: string, change: MailboxChange) => void;
}

/** In a worker: its store's changes to the primary, and the others' from it. */
export function relayWorkerFeed(store: RelayedStore): void {
  const deliver = store.relayChanges({
    published: (user, change) => {
      // The primary gone, the worker is on its way out too (cluster.ts, 'disconnect').
      if (process.connected) process.send!({ t: 'feed', user, change } satisfies FeedChange);
    },
  });
  process.on('message', (m: unknown) => {
    if (isFeedChange(m)) deliver(m.user, m.change);
  });
}

/** In the primary: the hub between its own store and the workers'. */
export class FeedHub {
  private readonly workers = new Set<Worker>();
  private readonly deliver: (user: string, change: MailboxChange) => void;

  constructor(store: RelayedStore) {
    this.deliver = store.relayChanges({ published: (user, change) => this.forward(undefined, user, change) });
  }

  add(worker: Worker): void {
    this.workers.add(worker);
    worker.on('message', (m: unknown) => {
      if (!isFeedChange(m)) return;
      this.deliver(m.user, m.change);
      this.forward(worker, m.user, m.change);
    });
    worker.on('exit', () => this.workers.delete(worker));
  }

  private forward(from: Worker | undefined, user: string, change: MailboxChange): void {
    const message: FeedChange = { t: 'feed', user, change };
    for (const worker of this.workers) if (worker !== from && worker.isConnected()) worker.send(message);
  }
}

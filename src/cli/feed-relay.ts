/**
 * The change feed between the processes of `serve --workers N --sqlite-workers own-store`, where
 * each worker opens the SQLite store itself (docs/sqlite.md, "Several processes on one data
 * folder"): a change committed in one process must reach the sessions of that user in the others —
 * an IDLE in one worker hears an APPEND made in another, delivery (in the primary) hears of Sieve
 * scripts stored through a worker. As the forwarded store does (store/remote/store-server.ts), the
 * primary is the hub: each worker sends it every change it publishes and says which users it
 * watches; the primary delivers each change to its own listeners and sends it on to every other
 * worker that watches that user; its own changes (delivery, the control socket) go to the workers
 * that watch. A change arrives after its commit, possibly after the receiving session has already
 * read it: sessions take that in stride (a late 'exists' for a UID already known is ignored, flag
 * changes carry their modseq), as on PostgreSQL, whose nodes hear each other the same way.
 */
import type { Worker } from 'node:cluster';
import type { MailboxChange } from '../store/types.js';
import type { FeedRelay } from '../store/change-feed.js';

type FeedChange = { t: 'feed'; user: string; change: MailboxChange };
type FeedWatch = { t: 'feed-watch'; user: string; watched: boolean };
type FeedMessage = FeedChange | FeedWatch;

function isFeedMessage(m: unknown): m is FeedMessage {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'feed' || t === 'feed-watch';
}

/** A store whose change feed can be relayed (SqliteStore.relayChanges). */
export interface RelayedStore {
  relayChanges(relay: FeedRelay): (user: string, change: MailboxChange) => void;
}

/** In a worker: its store's changes to the primary, and the others' from it. */
export function relayWorkerFeed(store: RelayedStore): void {
  const send = (m: FeedMessage): void => {
    // The primary gone, the worker is on its way out too (cluster.ts, 'disconnect').
    if (process.connected) process.send!(m);
  };
  const deliver = store.relayChanges({
    published: (user, change) => send({ t: 'feed', user, change }),
    watching: (user, watched) => send({ t: 'feed-watch', user, watched }),
  });
  process.on('message', (m: unknown) => {
    if (isFeedMessage(m) && m.t === 'feed') deliver(m.user, m.change);
  });
}

/** In the primary: the hub between its own store and the workers'. */
export class FeedHub {
  /** The users each worker watches. */
  private readonly watched = new Map<Worker, Set<string>>();
  private readonly deliver: (user: string, change: MailboxChange) => void;

  constructor(store: RelayedStore) {
    this.deliver = store.relayChanges({
      published: (user, change) => this.forward(undefined, user, change),
      // The primary hears every worker's changes anyway (its listeners are few: delivery's caches).
      watching: () => undefined,
    });
  }

  add(worker: Worker): void {
    const users = new Set<string>();
    this.watched.set(worker, users);
    worker.on('message', (m: unknown) => {
      if (!isFeedMessage(m)) return;
      if (m.t === 'feed-watch') {
        if (m.watched) users.add(m.user);
        else users.delete(m.user);
        return;
      }
      this.deliver(m.user, m.change);
      this.forward(worker, m.user, m.change);
    });
    worker.on('exit', () => this.watched.delete(worker));
  }

  private forward(from: Worker | undefined, user: string, change: MailboxChange): void {
    for (const [worker, users] of this.watched) {
      if (worker === from || !users.has(user) || !worker.isConnected()) continue;
      worker.send({ t: 'feed', user, change } satisfies FeedChange);
    }
  }
}

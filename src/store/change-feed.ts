/**
 * Per-user fan-out of MailboxChange events, shared by every backend.
 *
 * Delivery is synchronous so that a session hears about a change before the mutating call that
 * caused it resolves. Two guarantees matter to sessions (RFC 3501 §7 untagged updates must reflect
 * the order changes happened in):
 *  - every listener sees every change of its user in publish order, even when a listener publishes
 *    from inside its callback (such re-entrant publishes are queued, not delivered mid-fan-out);
 *  - a listener that throws is reported to `onListenerError` and never stops the others.
 */
import type { ChangeListener, MailboxChange } from './types.js';

/**
 * Where a feed's changes also go when other processes hold sessions of the same users (the SQLite
 * store shared by `serve --workers N --sqlite-workers own-store`, src/cli/feed-relay.ts).
 */
export interface FeedRelay {
  /** A change published in this process: the other processes' listeners of `user` must hear it. */
  published(user: string, change: MailboxChange): void;
  /** This process has listeners of `user` now (true), or none any more (false). Optional. */
  watching?(user: string, watched: boolean): void;
}

export interface ChangeFeedOptions {
  /** Called when a listener throws. Defaults to ignoring the error (the listener's own bug). */
  onListenerError?: (error: unknown, change: MailboxChange, user: string) => void;
}

export class ChangeFeed {
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly queue: Array<{ user: string; change: MailboxChange }> = [];
  private delivering = false;
  private readonly onListenerError: ChangeFeedOptions['onListenerError'];
  /** Set when other processes share the store (FeedRelay). */
  private relay: FeedRelay | undefined;

  constructor(options: ChangeFeedOptions = {}) {
    this.onListenerError = options.onListenerError;
  }

  /** Registers a listener for one user's changes. Calling the returned function twice is harmless. */
  watch(user: string, listener: ChangeListener): () => void {
    let set = this.listeners.get(user);
    if (!set) {
      set = new Set();
      this.listeners.set(user, set);
      this.relay?.watching?.(user, true);
    }
    // Wrap so the same function can be registered twice and removed independently.
    const entry: ChangeListener = (change) => listener(change);
    set.add(entry);
    return () => {
      const current = this.listeners.get(user);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) {
        this.listeners.delete(user);
        this.relay?.watching?.(user, false);
      }
    };
  }

  /**
   * From now on, every change published here also goes to `relay`, which is told of every user
   * watched here (those watched already at once). Returns the function that delivers a change
   * another process published to this process's listeners (not back to the relay).
   */
  relayTo(relay: FeedRelay): (user: string, change: MailboxChange) => void {
    this.relay = relay;
    if (relay.watching) for (const user of this.listeners.keys()) relay.watching(user, true);
    return (user, change) => this.enqueue(user, change);
  }

  /** Delivers `change` to every current listener of `user`. */
  publish(user: string, change: MailboxChange): void {
    this.relay?.published(user, change);
    this.enqueue(user, change);
  }

  private enqueue(user: string, change: MailboxChange): void {
    this.queue.push({ user, change });
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.deliver(next.user, next.change);
    } finally {
      this.delivering = false;
    }
  }

  /** Number of listeners of a user (for tests and leak checks). */
  listenerCount(user: string): number {
    return this.listeners.get(user)?.size ?? 0;
  }

  private deliver(user: string, change: MailboxChange): void {
    const set = this.listeners.get(user);
    if (!set) return;
    // Snapshot: a listener may unsubscribe itself or others while we iterate.
    for (const listener of [...set]) {
      if (!set.has(listener)) continue;
      try {
        listener(change);
      } catch (error) {
        try {
          this.onListenerError?.(error, change, user);
        } catch {
          // The error reporter itself failed; nothing sensible is left to do.
        }
      }
    }
  }
}

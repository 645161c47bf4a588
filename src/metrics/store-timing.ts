/**
 * A MailStore whose per-user calls are timed: every UserMailbox method reports its latency and
 * whether it failed to a StoreObserver. The wrapper works for any backend, so the store code stays
 * free of metrics; a call costs two `performance.now()` and one histogram update.
 */
import type { ChangeListener, MailStore, OpenOptions, UserMailbox } from '../store/types.js';
import type { StoreObserver } from './types.js';

/** The calls that return promises (stream() is synchronous and timed by its reader, not here). */
const TIMED = [
  'list', 'create', 'delete', 'rename', 'subscribe', 'subscriptions', 'get', 'status', 'snapshot', 'claimRecent',
  'records', 'structure', 'read', 'search', 'append', 'updateFlags', 'copy', 'move', 'expunge',
] as const;
const OPTIONAL_TIMED = ['messageHeads'] as const satisfies ReadonlyArray<keyof UserMailbox>;

function timed<A extends unknown[], R>(operation: string, observe: StoreObserver, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => {
    const started = performance.now();
    return fn(...args).then(
      (value) => {
        observe(operation, (performance.now() - started) / 1000, true);
        return value;
      },
      (err: unknown) => {
        observe(operation, (performance.now() - started) / 1000, false);
        throw err;
      },
    );
  };
}

function timedMailbox(inner: UserMailbox, observe: StoreObserver): UserMailbox {
  // A prototype chain keeps anything else the backend's handle offers reachable.
  const outer = Object.create(inner) as Record<string, unknown>;
  for (const name of TIMED) {
    const method = (inner[name] as (...a: unknown[]) => Promise<unknown>).bind(inner);
    outer[name] = timed(name, observe, method);
  }
  // Optional batch reads, timed when the backend has them (absent, they stay absent).
  for (const name of OPTIONAL_TIMED) {
    const method = inner[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (method) outer[name] = timed(name, observe, method.bind(inner));
  }
  outer['stream'] = inner.stream.bind(inner);
  outer['close'] = inner.close.bind(inner);
  return outer as unknown as UserMailbox;
}

/**
 * What the wrapper passes through untimed: the store's flags (read at each use, as the store may
 * compute them) and its optional methods, when it has them. Dropping one would silently turn an
 * extension off (QUOTA, ACL, OBJECTID…) whenever metrics are on. The handles' own optional
 * methods (getMetadata, urlauthKey…) pass through timedMailbox's prototype chain.
 */
const FLAGS = ['delimiter', 'crossProcessChanges', 'lineEnds', 'messageExtras', 'metadata', 'urlauthKeys'] as const satisfies ReadonlyArray<keyof MailStore>;
const FORWARDED = ['getQuota', 'setQuota', 'sharedMailboxes', 'readiness'] as const satisfies ReadonlyArray<keyof MailStore>;

/** `store` with every UserMailbox call (and open) timed; everything else passes through. */
export function timedStore<S extends MailStore>(store: S, observe: StoreObserver): MailStore {
  const open = timed('open', observe, store.open.bind(store));
  const outer = {
    open: async (user: string, options?: OpenOptions) => timedMailbox(await open(user, options), observe),
    watch: (user: string, listener: ChangeListener) => store.watch(user, listener),
    close: () => store.close(),
  } as unknown as MailStore;
  for (const name of FLAGS) Object.defineProperty(outer, name, { get: () => store[name], enumerable: true });
  const methods = outer as unknown as Record<string, unknown>;
  for (const name of FORWARDED) {
    const method = store[name] as ((...a: unknown[]) => unknown) | undefined;
    if (method) methods[name] = method.bind(store);
  }
  return outer;
}

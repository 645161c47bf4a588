/**
 * Shared plumbing for the conformance suite: the list of cases, a fresh store per case, error and
 * event helpers. Nothing here depends on a test runner: cases are plain async functions that throw
 * (node:assert) on failure, and index.ts hands them to node:test or to any describe/it given.
 */
import assert from 'node:assert/strict';
import type { StoreErrorKind } from '../errors.js';
import type { MailboxChange, MailStore, UserMailbox } from '../types.js';

export type StoreFactory = () => Promise<MailStore> | MailStore;

export interface ConformanceOptions {
  /** Runs after each test's store has been closed (remove temporary files and the like). */
  cleanup?: (store: MailStore) => Promise<void> | void;
  /**
   * 'read-only': the store refuses every write (`noperm`). Only the cases that need no writes run;
   * the others are listed as skipped with the reason. Give `seeded` to check the reads against
   * messages the store already holds. Default 'read-write'.
   */
  profile?: 'read-write' | 'read-only';
  /**
   * The two users the suite works as (default ["alice", "bob"]). A pre-populated store passes
   * names it does not hold yet: several cases check what a new user starts with.
   */
  users?: readonly [string, string];
  /**
   * Messages the store holds before the suite starts: `messages[i]` is UID i + 1 of `mailbox`
   * (default INBOX) of `user`. Adds cases that read them back through every read call.
   */
  seeded?: SeededMailbox;
}

export interface SeededMailbox {
  user: string;
  mailbox?: string;
  /** The stored bytes, in UID order starting at 1 (CRLF line ends, as the contract says). */
  messages: readonly Buffer[];
}

export interface TestEnv {
  store: MailStore;
  /** Opens `user` (default the suite's first user) with an optional origin. */
  open(user?: string, origin?: string): Promise<UserMailbox>;
  /** Joins levels with the store's delimiter. */
  name(...levels: string[]): string;
  /** Opens exactly `user`, whatever `options.users` renames (the seeded user). */
  openExact(user: string): Promise<UserMailbox>;
}

/** One conformance check, runnable by any test runner: call run(), it throws on failure. */
export interface ConformanceCase {
  /** The groups it belongs to, outermost first ("mailbox tree"). */
  path: string[];
  title: string;
  /** Set when the case does not apply to this store (profile 'read-only'): the reason. */
  skip?: string;
  run(): Promise<void>;
}

type Body = (env: TestEnv) => Promise<void>;

export interface Register {
  /** A case that writes (creates mailboxes, appends…). */
  (title: string, body: Body): void;
  /** A case that only reads: it runs for read-only stores too. */
  readOnly(title: string, body: Body): void;
  group(title: string, fn: () => void): void;
}

/** A store whose users are renamed: the cases say "alice" and "bob", the store sees `users`. */
function renamedUsers(store: MailStore, users: readonly [string, string]): MailStore {
  const map = (user: string): string => (user === 'alice' ? users[0] : user === 'bob' ? users[1] : user);
  if (users[0] === 'alice' && users[1] === 'bob') return store;
  return new Proxy(store, {
    get(target, p) {
      if (p === 'open') return (user: string, options?: Parameters<MailStore['open']>[1]) => target.open(map(user), options);
      if (p === 'watch') return (user: string, listener: Parameters<MailStore['watch']>[1]) => target.watch(map(user), listener);
      const value: unknown = Reflect.get(target, p, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Collects cases into `out`: a fresh store per case, closed (and cleaned up) afterwards even when it fails. */
export function makeRegister(factory: StoreFactory, options: ConformanceOptions, out: ConformanceCase[], root: string[] = []): Register {
  const path = [...root];
  const users = options.users ?? (['alice', 'bob'] as const);
  const add = (title: string, body: Body, writes: boolean): void => {
    const skip = writes && options.profile === 'read-only' ? 'needs writes; the store is read-only' : undefined;
    out.push({
      path: [...path],
      title,
      ...(skip ? { skip } : {}),
      async run() {
        const real = await factory();
        const store = renamedUsers(real, users);
        const handles: UserMailbox[] = [];
        const env: TestEnv = {
          store,
          async open(user = 'alice', origin) {
            const handle = await store.open(user, origin === undefined ? {} : { origin });
            handles.push(handle);
            return handle;
          },
          name: (...levels) => levels.join(store.delimiter),
          async openExact(user) {
            const handle = await real.open(user);
            handles.push(handle);
            return handle;
          },
        };
        try {
          await body(env);
        } finally {
          for (const h of handles) await h.close();
          await store.close();
          await options.cleanup?.(store);
        }
      },
    });
  };
  const register = ((title: string, body: Body) => add(title, body, true)) as Register;
  register.readOnly = (title, body) => add(title, body, false);
  register.group = (title, fn) => {
    path.push(title);
    try {
      fn();
    } finally {
      path.pop();
    }
  };
  return register;
}

/** Asserts that `promise` rejects with a StoreError of the given kind (by name, so copies of the class work). */
export async function rejectsWith(promise: Promise<unknown> | (() => Promise<unknown>), kind: StoreErrorKind): Promise<void> {
  await assert.rejects(typeof promise === 'function' ? promise() : promise, (err: unknown) => {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    assert.equal(err.name, 'StoreError', `expected a StoreError, got ${err.name}: ${err.message}`);
    assert.equal((err as Error & { kind?: string }).kind, kind, `wrong StoreError kind (${err.message})`);
    return true;
  });
}

/** Records one user's change feed; stop() unsubscribes. */
export function recordChanges(store: MailStore, user = 'alice'): { changes: MailboxChange[]; stop: () => void } {
  const changes: MailboxChange[] = [];
  const stop = store.watch(user, (c) => changes.push(c));
  return { changes, stop };
}

/**
 * Waits (bounded) until `predicate` holds. Changes must be published once a mutation is durable; a
 * backend may deliver them a few ticks after the call resolves, so tests poll briefly instead of
 * demanding synchronous delivery.
 */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function* chunksOf(buffer: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const size of sizes) {
    yield buffer.subarray(at, at + size);
    at += size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (at < buffer.length) yield buffer.subarray(at);
}

export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** Lower-cased, sorted flags, for comparisons that ignore order. */
export function flagSet(flags: string[]): string[] {
  return flags.map((f) => f.toLowerCase()).sort();
}

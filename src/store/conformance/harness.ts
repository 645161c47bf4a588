/** Shared plumbing for the conformance suite: a fresh store per test, error and event helpers. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoreErrorKind } from '../errors.js';
import type { MailboxChange, MailStore, UserMailbox } from '../types.js';

export type StoreFactory = () => Promise<MailStore> | MailStore;

export interface ConformanceOptions {
  /** Runs after each test's store has been closed (remove temporary files and the like). */
  cleanup?: (store: MailStore) => Promise<void> | void;
}

export interface TestEnv {
  store: MailStore;
  /** Opens `user` (default "alice") with an optional origin. */
  open(user?: string, origin?: string): Promise<UserMailbox>;
  /** Joins levels with the store's delimiter. */
  name(...levels: string[]): string;
}

export type Register = (title: string, body: (env: TestEnv) => Promise<void>) => void;

/** `it` with a fresh store per test, closed (and cleaned up) afterwards even when the test fails. */
export function makeRegister(factory: StoreFactory, options: ConformanceOptions): Register {
  return (title, body) => {
    it(title, async () => {
      const store = await factory();
      const handles: UserMailbox[] = [];
      const env: TestEnv = {
        store,
        async open(user = 'alice', origin) {
          const handle = await store.open(user, origin === undefined ? {} : { origin });
          handles.push(handle);
          return handle;
        },
        name: (...levels) => levels.join(store.delimiter),
      };
      try {
        await body(env);
      } finally {
        for (const h of handles) await h.close();
        await store.close();
        await options.cleanup?.(store);
      }
    });
  };
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

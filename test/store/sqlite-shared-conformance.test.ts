/**
 * The store conformance suite over two SqliteStores on one data folder (SqliteStoreOptions.shared:
 * the first maintains it, the second joins it), as the processes of `serve --workers N
 * --sqlite-workers own-store` open it: every call of a handle goes to one store or the other in
 * turn, so a message appended through one connection is flagged, copied, read and expunged through
 * the other; each store's changes reach the other's listeners through relayChanges(), as
 * src/cli/feed-relay.ts carries them between processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { ChangeListener, MailboxChange, MailStore, OpenOptions, QuotaLimits, QuotaState, UserMailbox } from '../../src/store/types.js';
import type { SharedMailboxRef } from '../../src/store/acl.js';

class TwoConnections implements MailStore {
  readonly delimiter = '/';
  readonly lineEnds = 'crlf' as const;
  readonly crossProcessChanges = true;
  readonly messageExtras = true;
  readonly metadata = true;
  readonly urlauthKeys = true;
  private turn = 0;

  constructor(
    readonly first: SqliteStore,
    readonly second: SqliteStore,
    readonly dir: string,
  ) {
    let toFirst: (user: string, change: MailboxChange) => void = () => undefined;
    const toSecond = second.relayChanges({ published: (user, change) => toFirst(user, change) });
    toFirst = first.relayChanges({ published: (user, change) => toSecond(user, change) });
  }

  private next(): SqliteStore {
    return this.turn++ % 2 ? this.second : this.first;
  }

  async open(user: string, options?: OpenOptions): Promise<UserMailbox> {
    const handles = [await this.first.open(user, options), await this.second.open(user, options)];
    let turn = 0;
    // Every method call on the next connection; `user` and the like from the first.
    return new Proxy(handles[0]!, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          // sortData keeps its answer's identity per process (the same array while the mailbox is
          // unchanged): a session's handle lives in one process, so its calls stay on one store.
          const h = name === 'sortData' ? handles[0]! : handles[turn++ % 2]!;
          return (Reflect.get(h, name) as (...a: unknown[]) => unknown).apply(h, args);
        };
      },
    });
  }

  watch(user: string, listener: ChangeListener): () => void {
    // The first store's feed hears the second's changes through the relay.
    return this.first.watch(user, listener);
  }

  getQuota(user: string): Promise<QuotaState> {
    return this.next().getQuota(user);
  }

  setQuota(user: string, limits: QuotaLimits | null): Promise<void> {
    return this.next().setQuota(user, limits);
  }

  sharedMailboxes(user: string): Promise<SharedMailboxRef[]> {
    return this.next().sharedMailboxes(user);
  }

  async close(): Promise<void> {
    await this.second.close();
    await this.first.close();
  }
}

for (const [label, inlineMax] of [
  ['SqliteStore, two connections on one folder', undefined],
  ['SqliteStore, two connections on one folder (bodies as files)', 16],
] as const) {
  runStoreConformance(
    label,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'postroom-conf-shared-'));
      const extra = inlineMax === undefined ? {} : { inlineMax };
      const first = await SqliteStore.open({ directory: dir, shared: { maintains: true }, ...extra });
      const second = await SqliteStore.open({ directory: dir, shared: { maintains: false }, ...extra });
      return new TwoConnections(first, second, dir);
    },
    {
      cleanup: (store) => rmSync((store as TwoConnections).dir, { recursive: true, force: true }),
    },
  );
}

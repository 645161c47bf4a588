/**
 * A MailStore with faults on demand, per user: the store is unreachable for one user, the disk is
 * full for another, a third is over quota. Everything else goes to the wrapped store.
 */
import { StoreError } from '../../src/store/errors.js';
import type { ChangeListener, MailStore, OpenOptions, UserMailbox } from '../../src/store/types.js';

export type Fault = 'unavailable' | 'diskfull' | 'overquota' | 'io' | 'noperm';

export class FaultStore implements MailStore {
  readonly delimiter: string;

  constructor(
    readonly inner: MailStore,
    readonly faults: Map<string, Fault> = new Map(),
  ) {
    this.delimiter = inner.delimiter;
  }

  async open(user: string, options?: OpenOptions): Promise<UserMailbox> {
    const fault = this.faults.get(user);
    if (fault === 'unavailable') throw new StoreError('unavailable', 'the store is not reachable');
    const mail = await this.inner.open(user, options);
    if (!fault) return mail;
    return new Proxy(mail, {
      get(target, prop) {
        if (prop === 'append') return () => Promise.reject(appendError(fault));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  watch(user: string, listener: ChangeListener): () => void {
    return this.inner.watch(user, listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function appendError(fault: Fault): Error {
  if (fault === 'overquota') return new StoreError('overquota', 'quota exceeded');
  if (fault === 'noperm') return new StoreError('noperm', 'mailbox is read-only');
  if (fault === 'diskfull') return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
  return Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO', errno: -5 });
}

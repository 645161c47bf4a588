/**
 * A MailStore wrapper that makes a race happen on purpose: `at(method, 'before' | 'after', step)`
 * runs `step` once, at the next call of that UserMailbox method through any handle, before the
 * real call or after it returned but before its caller hears the result. Sessions' own changes and
 * feed events are the real store's; only the timing is chosen. Used to pin down, deterministically,
 * interleavings that a busy server produces by chance.
 */
import type { MailStore, UserMailbox } from '../../src/store/types.js';

type Method = Exclude<keyof UserMailbox, 'user'>;
type Step = () => Promise<void>;

export interface InterleavedStore extends MailStore {
  /** Arms `step` for the next call of `method` (each armed step runs once). */
  at(method: Method, when: 'before' | 'after', step: Step): void;
  /** Steps armed but not run yet (a test asserts its race really happened). */
  readonly armed: number;
}

export function interleavedStore(inner: MailStore): InterleavedStore {
  const steps: Array<{ method: Method; when: 'before' | 'after'; step: Step }> = [];
  const take = (method: Method, when: 'before' | 'after'): Step | undefined => {
    const i = steps.findIndex((s) => s.method === method && s.when === when);
    return i < 0 ? undefined : steps.splice(i, 1)[0]!.step;
  };
  const wrap = (handle: UserMailbox): UserMailbox =>
    new Proxy(handle, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'stream') return typeof value === 'function' ? value.bind(target) : value;
        const method = prop as Method;
        return async (...args: unknown[]) => {
          await take(method, 'before')?.();
          const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
          await take(method, 'after')?.();
          return result;
        };
      },
    });
  return {
    get delimiter() {
      return inner.delimiter;
    },
    get crossProcessChanges() {
      return inner.crossProcessChanges;
    },
    open: async (user, options) => wrap(await inner.open(user, options)),
    watch: (user, listener) => inner.watch(user, listener),
    close: () => inner.close(),
    at(method, when, step) {
      steps.push({ method, when, step });
    },
    get armed() {
      return steps.length;
    },
  };
}

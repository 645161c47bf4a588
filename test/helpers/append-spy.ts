/**
 * A store whose users' append/appendMany inputs pass through `note` first (tests that watch what
 * content reaches the store: its announced size, its chunks). A streamed APPEND goes through
 * appendMany (append-many.ts appendAllOrNone), so both are wrapped.
 */
import type { AppendInput, AppendInputs, MailStore, UserMailbox } from '../../src/store/types.js';

export function spyOnAppends(store: MailStore, note: (input: AppendInput) => AppendInput): MailStore {
  const wrap = (mail: UserMailbox): UserMailbox =>
    new Proxy(mail, {
      get(target, key, receiver) {
        if (key === 'append') return (id: string, input: AppendInput) => target.append(id, note(input));
        if (key === 'appendMany' && target.appendMany) {
          return (id: string, inputs: AppendInputs) =>
            target.appendMany!(id, Array.isArray(inputs) ? inputs.map(note) : (async function* () {
              for await (const input of inputs) yield note(input);
            })());
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'open') return async (user: string) => wrap(await target.open(user));
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

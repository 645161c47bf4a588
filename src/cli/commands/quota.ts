/**
 * `postroom quota get|set USER`: a user's RFC 9208 usage and limits, through the running server
 * (its control socket) or, with none running, on the SQLite store opened here. Limits set here are
 * kept in the store and win over the users file's `quota_storage=`/`quota_messages=` fields and the
 * `quota` setting (docs/quota.md); `--reset` removes them so those apply again.
 */
import type { Command } from 'commander';
import type { QuotaLimits, QuotaState } from '../../store/types.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, requireKnownUser, withServerOptions, type Options } from '../admin/options.js';
import { parseSize } from '../quota-defaults.js';

function describe(user: string, state: QuotaState): string {
  const line = (name: string, used: number, limit: number | undefined, unit: string): string =>
    `${user}\t${name}\t${used}\t${limit === undefined ? 'unlimited' : limit}\t${unit}\n`;
  return (
    line('storage', state.usage.storage, state.limits.storage, 'octets') +
    line('messages', state.usage.messages, state.limits.messages, 'messages') +
    `${user}\tlimits from\t${state.source === 'store' ? 'the store (postroom quota set, SETQUOTA)' : 'the users file and the quota setting'}\n`
  );
}

async function withStore(user: string, options: Options, fn: (store: { getQuota(u: string): Promise<QuotaState>; setQuota(u: string, l: QuotaLimits | null): Promise<void> }) => Promise<void>): Promise<void> {
  const settings = await adminSettings(options);
  const target = await openAdminTarget(settings);
  try {
    await requireKnownUser(settings, target, user);
    const { getQuota, setQuota } = target.store;
    if (!getQuota || !setQuota) throw new Error('this store keeps no quotas');
    await fn({ getQuota: (u) => getQuota.call(target.store, u), setQuota: (u, l) => setQuota.call(target.store, u, l) });
  } finally {
    await target.close();
  }
}

/** The limits `set` was given: sizes for storage, whole numbers for messages, 0 meaning unlimited. */
export function limitsFromOptions(options: Options): QuotaLimits | null {
  if (options['reset'] === true) {
    if (options['storage'] !== undefined || options['messages'] !== undefined || options['unlimited'] === true) {
      throw new Error('--reset cannot be combined with --storage, --messages or --unlimited');
    }
    return null;
  }
  if (options['storage'] === undefined && options['messages'] === undefined && options['unlimited'] !== true) {
    throw new Error('give --storage and/or --messages, --unlimited, or --reset');
  }
  const limits: QuotaLimits = {};
  if (options['storage'] !== undefined) {
    const storage = parseSize(String(options['storage']));
    if (storage > 0) limits.storage = storage;
  }
  if (options['messages'] !== undefined) {
    const text = String(options['messages']).trim();
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error(`--messages: expected a whole number, got "${text}"`);
    if (Number(text) > 0) limits.messages = Number(text);
  }
  return limits;
}

export function register(program: Command): void {
  const quota = program.command('quota').description("a user's quota: usage and limits (RFC 9208; on the running server when there is one)");

  withServerOptions(quota.command('get <user>').description('usage and limits, one resource a line: user, resource, used, limit, unit')).action(
    (user: string, options: Options) =>
      withStore(user, options, async (store) => {
        process.stdout.write(describe(user, await store.getQuota(user)));
      }),
  );

  withServerOptions(
    quota
      .command('set <user>')
      .description('replace the limits kept in the store (a resource not given becomes unlimited); --reset: back to the defaults')
      .option('--storage <size>', 'total size of all mailboxes, e.g. 1G, 500M (0: unlimited)')
      .option('--messages <count>', 'number of messages in all mailboxes (0: unlimited)')
      .option('--unlimited', 'no limit at all, whatever the defaults say')
      .option('--reset', 'remove the limits kept in the store: the users file and the quota setting apply again'),
  ).action((user: string, options: Options) => {
    const limits = limitsFromOptions(options);
    return withStore(user, options, async (store) => {
      await store.setQuota(user, limits);
      process.stdout.write(describe(user, await store.getQuota(user)));
    });
  });
}

/**
 * QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA, with the STORAGE and MESSAGE resources.
 *
 * Every user has one quota root covering all of their mailboxes, named "" (as RFC 9208 §4.2.1's
 * example). Administrators (ImapServerOptions.administrators) may also name any user's root as
 * `#user/<name>`, and only they may SETQUOTA (§4.1.3 leaves who may to the server); to anyone else
 * a `#user/…` root does not exist, so GETQUOTA cannot be used to learn which users there are.
 * The store enforces the limits inside its writes (MailStore.getQuota/setQuota, UserMailbox.quota);
 * these commands are registered only when the store keeps quotas (server.ts).
 */
import type { CommandContext, CommandSpec } from './types.js';
import type { QuotaLimits, QuotaState } from '../../store/types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, type ImapValue } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { mailboxNameValue, readMailboxName, userMail } from './mailbox-name.js';

/** RFC 9208 §5.1: STORAGE is counted in units of 1024 octets. */
const KIB = 1024;
const USER_ROOT_PREFIX = '#user/';

export const QUOTA_CAPABILITIES = ['QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE', 'QUOTASET'] as const;

/** The user a root names for this session, or a NO that does not say whether the user exists. */
function rootUser(ctx: CommandContext, root: string): string {
  if (ctx.state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
  if (root === '') return ctx.state.user;
  if (root.startsWith(USER_ROOT_PREFIX) && ctx.server.administrators?.has(ctx.state.user)) {
    const user = root.slice(USER_ROOT_PREFIX.length);
    if (user !== '') return user;
  }
  throw ImapError.no('No such quota root', 'NONEXISTENT');
}

/**
 * `(STORAGE used limit MESSAGE used limit)` with only the limited resources (RFC 9208 §4.2.1:
 * "Resources not named in the list are not limited"). Usage is rounded down to whole KiB, as
 * Dovecot reports it; the limit up, so a limit set in octets is never shown lower than it is.
 */
export function quotaList(state: QuotaState): ImapValue[] {
  const out: ImapValue[] = [];
  if (state.limits.storage !== undefined) out.push(atom('STORAGE'), Math.floor(state.usage.storage / KIB), Math.ceil(state.limits.storage / KIB));
  if (state.limits.messages !== undefined) out.push(atom('MESSAGE'), state.usage.messages, state.limits.messages);
  return out;
}

async function stateOf(ctx: CommandContext, user: string): Promise<QuotaState> {
  const st = ctx.state;
  if (st.kind !== 'notAuthenticated' && st.user === user && st.mail.quota) return st.mail.quota();
  const store = ctx.server.store;
  if (!store.getQuota) throw ImapError.no('This server keeps no quotas', 'CANNOT');
  return store.getQuota(user);
}

export const getQuotaCommand: CommandSpec<{ root: string }> = {
  name: 'GETQUOTA',
  states: ['authenticated', 'selected'],
  parse(args) {
    const r = new ArgReader(args);
    const root = r.astring('quota root');
    r.end();
    return { root };
  },
  async run(ctx, args) {
    const user = rootUser(ctx, args.root);
    ctx.untagged(atom('QUOTA'), args.root, quotaList(await stateOf(ctx, user)));
    return { text: 'GETQUOTA completed' };
  },
};

export const getQuotaRootCommand: CommandSpec<{ name: string }> = {
  name: 'GETQUOTAROOT',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args);
    const name = readMailboxName(r, env.enabled);
    r.end();
    return { name };
  },
  async run(ctx, args) {
    // §4.1.2: the mailbox need not exist; every name of the user falls under the user's root.
    const mail = userMail(ctx);
    const state = await stateOf(ctx, mail.user);
    ctx.untagged(atom('QUOTAROOT'), mailboxNameValue(args.name, ctx.enabled), '');
    ctx.untagged(atom('QUOTA'), '', quotaList(state));
    return { text: 'GETQUOTAROOT completed' };
  },
};

interface SetQuotaArgs {
  root: string;
  limits: Array<{ resource: string; limit: number }>;
}

/** The wire limits as the store keeps them (octets); unknown resources and overflow are NO. */
function toStoreLimits(limits: SetQuotaArgs['limits']): QuotaLimits {
  const out: QuotaLimits = {};
  for (const { resource, limit } of limits) {
    if (resource === 'STORAGE') {
      if (!Number.isSafeInteger(limit * KIB)) throw ImapError.no('STORAGE limit too large', 'LIMIT');
      out.storage = limit * KIB;
    } else if (resource === 'MESSAGE') {
      out.messages = limit;
    } else {
      throw ImapError.no(`Unsupported quota resource ${resource.slice(0, 40)}`, 'CANNOT');
    }
  }
  return out;
}

export const setQuotaCommand: CommandSpec<SetQuotaArgs> = {
  name: 'SETQUOTA',
  states: ['authenticated', 'selected'],
  capabilities: [...QUOTA_CAPABILITIES],
  parse(args) {
    const r = new ArgReader(args);
    const root = r.astring('quota root');
    const list = r.list('resource limits');
    const limits: SetQuotaArgs['limits'] = [];
    const seen = new Set<string>();
    while (list.remaining > 0) {
      const resource = list.atom('resource name').toUpperCase();
      if (seen.has(resource)) throw new ParseError(`Resource ${resource.slice(0, 40)} given twice`);
      seen.add(resource);
      limits.push({ resource, limit: list.number('resource limit') });
    }
    r.end();
    return { root, limits };
  },
  async run(ctx, args) {
    if (ctx.state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
    const admin = ctx.server.administrators?.has(ctx.state.user) === true;
    const user = rootUser(ctx, args.root);
    if (!admin) throw ImapError.no('Only administrators may set quotas', 'NOPERM');
    const store = ctx.server.store;
    if (!store.setQuota) throw ImapError.no('This server keeps no quotas', 'CANNOT');
    // §4.1.3: limits not named are removed — an empty list leaves the root unlimited.
    await store.setQuota(user, toStoreLimits(args.limits));
    ctx.untagged(atom('QUOTA'), args.root, quotaList(await stateOf(ctx, user)));
    return { text: 'SETQUOTA completed' };
  },
};

export const QUOTA_COMMANDS = [getQuotaCommand, getQuotaRootCommand, setQuotaCommand] as const;

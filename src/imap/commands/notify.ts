import type { CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { parseNotify, METADATA_EVENTS, SUPPORTED_EVENTS, type NotifyArgs, type NotifySpec } from '../notify/spec.js';
import { normalizeInbox } from './mailbox-name.js';
import { atom } from '../wire/types.js';

/**
 * NOTIFY SET / NOTIFY NONE (RFC 5465). The watching itself is the session's (connection.ts
 * setNotify, src/imap/notify/watcher.ts); a successful NOTIFY SET is also a NOOP (§3.1), which the
 * dispatcher's update flush after every command gives.
 */
export const notifyCommand: CommandSpec<NotifyArgs> = {
  name: 'NOTIFY',
  states: ['authenticated', 'selected'],
  capabilities: ['NOTIFY'],
  parse(args, env) {
    return parseNotify(args, { enabled: env.enabled, delimiter: '', maxNames: env.limits.maxNotifyMailboxNames });
  },
  async run(ctx, args) {
    if (args.kind === 'none') {
      await ctx.setNotify(null);
      return { text: 'NOTIFY NONE completed' };
    }
    // §3.1: an unsupported event is NO (not BAD), BADEVENT listing every event the server supports;
    // the metadata events only where the store keeps annotations (METADATA is offered then).
    const supported = ctx.server.store.metadata ? SUPPORTED_EVENTS : SUPPORTED_EVENTS.filter((e) => !METADATA_EVENTS.includes(e));
    const unsupported = [...args.unsupported];
    if (!ctx.server.store.metadata) {
      const asked = new Set([...(args.spec.others.flatMap((g) => [...g.events]))]);
      for (const e of METADATA_EVENTS) if (asked.has(e)) unsupported.push(e);
    }
    if (unsupported.length > 0) {
      throw ImapError.no(`Unsupported NOTIFY event ${unsupported.join(' ').slice(0, 80)}`, { name: 'BADEVENT', args: [supported.map(atom)] });
    }
    await ctx.setNotify(withInbox(args.spec, ctx.server.store.delimiter));
    return { text: 'NOTIFY completed' };
  },
};

/** "inbox/sub" names INBOX's child: INBOX is case-insensitive, with the store's delimiter (known only now). */
function withInbox(spec: NotifySpec, delimiter: string): NotifySpec {
  return {
    ...spec,
    others: spec.others.map((g) =>
      g.filter.kind === 'subtree' || g.filter.kind === 'mailboxes' ? { ...g, filter: { ...g.filter, names: g.filter.names.map((n) => normalizeInbox(n, delimiter)) } } : g,
    ),
  };
}

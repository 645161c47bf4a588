/**
 * `postroom mailbox list|status|create|delete|rename|expunge --user NAME`: one user's mailboxes,
 * through the running server (its sessions hear the changes at once) or, with none running, on the
 * store opened here.
 */
import type { Command } from 'commander';
import type { MailStore, UserMailbox } from '../../store/types.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, requireKnownUser, withServerOptions, type Options } from '../admin/options.js';

/** `--older-than`: 30d, 12h, 2w, or a date (YYYY-MM-DD, taken as UTC midnight). Returns the cutoff. */
export function parseOlderThan(text: string, now = Date.now()): Date {
  const m = /^(\d+)\s*([hdw])$/i.exec(text.trim());
  if (m) {
    const hours = { h: 1, d: 24, w: 24 * 7 }[m[2]!.toLowerCase() as 'h' | 'd' | 'w'];
    return new Date(now - Number(m[1]) * hours * 3600_000);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) {
    const date = new Date(`${text.trim()}T00:00:00Z`);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(`--older-than: expected a age such as 30d, 12h or 2w, or a date YYYY-MM-DD; got "${text}"`);
}

async function withUser(options: Options, fn: (mail: UserMailbox, store: MailStore) => Promise<void>): Promise<void> {
  const user = String(options['user']);
  const settings = await adminSettings(options);
  const target = await openAdminTarget(settings);
  try {
    await requireKnownUser(settings, target, user);
    const mail = await target.store.open(user);
    try {
      await fn(mail, target.store);
    } finally {
      await mail.close();
    }
  } finally {
    await target.close();
  }
}

function sub(parent: Command, spec: string, description: string): Command {
  return withServerOptions(parent.command(spec).description(description)).requiredOption('--user <name>', 'whose mailboxes');
}

export function register(program: Command): void {
  const mailbox = program.command('mailbox').description("manage one user's mailboxes (on the running server when there is one)");

  sub(mailbox, 'list', 'the mailboxes, one per line, with their attributes').action((options: Options) =>
    withUser(options, async (mail) => {
      for (const box of await mail.list()) {
        const attrs = [box.noselect ? '\\Noselect' : null, box.specialUse ?? null, box.subscribed ? 'subscribed' : null].filter(Boolean);
        process.stdout.write(`${box.name}${attrs.length ? `\t(${attrs.join(' ')})` : ''}\n`);
      }
    }),
  );

  sub(mailbox, 'status [mailboxes...]', 'counts of each mailbox (default: all): messages, unseen, size, UIDNEXT, UIDVALIDITY').action(
    (names: string[], options: Options) =>
      withUser(options, async (mail) => {
        const boxes = names.length > 0 ? await Promise.all(names.map((n) => mail.get(n))) : (await mail.list()).filter((b) => !b.noselect);
        for (const box of boxes) {
          const s = await mail.status(box.id);
          process.stdout.write(`${box.name}\tmessages ${s.messages}\tunseen ${s.unseen}\tsize ${s.size}\tuidnext ${s.uidNext}\tuidvalidity ${s.uidValidity}\n`);
        }
      }),
  );

  sub(mailbox, 'create <name>', 'create a mailbox (and missing parents)').action((name: string, options: Options) =>
    withUser(options, async (mail) => {
      const box = await mail.create(name);
      await mail.subscribe(box.name, true);
      process.stdout.write(`created ${box.name}\n`);
    }),
  );

  sub(mailbox, 'delete <name>', 'delete a mailbox and its messages (as IMAP DELETE: a parent of others keeps its children)').action(
    (name: string, options: Options) =>
      withUser(options, async (mail) => {
        await mail.delete(name);
        process.stdout.write(`deleted ${name}\n`);
      }),
  );

  sub(mailbox, 'rename <from> <to>', 'rename a mailbox with its children (INBOX: its messages move, INBOX stays)').action(
    (from: string, to: string, options: Options) =>
      withUser(options, async (mail) => {
        await mail.rename(from, to);
        process.stdout.write(`renamed ${from} to ${to}\n`);
      }),
  );

  sub(mailbox, 'expunge <mailboxes...>', 'remove the messages older than --older-than (by internal date: when they arrived)')
    .requiredOption('--older-than <age>', 'e.g. 90d, 12h, 2w, or a date YYYY-MM-DD')
    .option('--dry-run', 'only count what would be removed')
    .action((names: string[], options: Options) => {
      const cutoff = parseOlderThan(String(options['olderThan']));
      return withUser(options, async (mail) => {
        for (const name of names) {
          const box = await mail.get(name);
          // The search narrows to whole days; the records decide to the second.
          const day = new Date(cutoff.getTime() + 86_400_000).toISOString().slice(0, 10);
          const candidates = await mail.search(box.id, { type: 'internaldate', op: 'before', day });
          const old: number[] = [];
          for (let i = 0; i < candidates.length; i += 1000) {
            for (const r of await mail.records(box.id, candidates.slice(i, i + 1000))) if (r.internalDate < cutoff) old.push(r.uid);
          }
          if (options['dryRun'] === true || old.length === 0) {
            process.stdout.write(`${box.name}: ${old.length} message${old.length === 1 ? '' : 's'} older than ${cutoff.toISOString()}${options['dryRun'] === true ? ' (dry run: nothing removed)' : ''}\n`);
            continue;
          }
          await mail.updateFlags(box.id, old, 'add', ['\\Deleted']);
          const removed = await mail.expunge(box.id, old);
          process.stdout.write(`${box.name}: removed ${removed.length} message${removed.length === 1 ? '' : 's'} older than ${cutoff.toISOString()}\n`);
        }
      });
    });
}

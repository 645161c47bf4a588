/**
 * `postroom import --user NAME --maildir PATH | --mbox PATH`: bring existing mail into the store —
 * through the running server when there is one (its sessions see the new mail at once), otherwise
 * into the store opened here.
 */
import type { Command } from 'commander';
import { importMail, type ImportProgress, type ImportSource } from '../../store/import/index.js';
import type { UserMailbox } from '../../store/types.js';
import { openAdminTarget, requireDataFolder, type AdminTarget } from '../admin/target.js';
import { adminSettings, requireUserInUsersFile, withServerOptions, type Options } from '../admin/options.js';
import { checkImportSource } from '../admin/sources.js';
import { createProgress } from '../progress.js';

function source(options: Options): ImportSource {
  const maildir = options['maildir'];
  const mbox = options['mbox'];
  if ((typeof maildir === 'string') === (typeof mbox === 'string')) throw new Error('give exactly one of --maildir PATH or --mbox PATH');
  if (typeof maildir === 'string') return { kind: 'maildir', path: maildir };
  return { kind: 'mbox', path: mbox as string, mailbox: typeof options['mailbox'] === 'string' ? options['mailbox'] : 'INBOX' };
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

type Digests = (handle: UserMailbox, mailboxId: string) => Promise<Map<string, number>>;

/**
 * Hashes of what a mailbox already holds, so a re-run skips it without reading every message back
 * (the SQLite store keeps them; with another store importMail() reads and hashes).
 */
async function digestsOf(target: AdminTarget, user: string): Promise<Digests | undefined> {
  if (!target.online) return (_handle, mailboxId) => target.sqlite.contentDigests(user, mailboxId);
  const status = await target.client.request<{ store?: string }>('status');
  if (status.store !== 'sqlite') return undefined;
  return async (_handle, mailboxId) => {
    const { digests } = await target.client.request<{ digests: Array<[string, number]> }>('digests', { user, mailboxId });
    return new Map(digests);
  };
}

export function register(program: Command): void {
  withServerOptions(
    program
      .command('import')
      .description('import a Maildir tree (Dovecot or Courier layout) or an mbox file; re-running skips what is already there. Works while the server runs.'),
  )
    .requiredOption('--user <name>', 'the user whose mail this becomes (must be in the users file)')
    .option('--maildir <path>', 'Maildir root: INBOX, with subfolders as mailboxes')
    .option('--mbox <path>', 'an mbox file')
    .option('--mailbox <name>', 'target mailbox for --mbox', 'INBOX')
    .option('--no-progress', 'no progress output (a bar on a terminal, otherwise a line every 5 s)')
    .action(async (options: Options) => {
      const from = source(options);
      const user = String(options['user']);
      const settings = await adminSettings(options);
      await checkImportSource(from);
      requireDataFolder(settings.data);
      await requireUserInUsersFile(settings, user);
      const target = await openAdminTarget(settings, { create: true });
      const progress = createProgress({ unit: from.kind === 'mbox' ? 'bytes' : 'messages', label: 'import', enabled: options['progress'] !== false });
      const began = Date.now();
      try {
        const summary = await importMail({
          store: target.store,
          user,
          source: from,
          digests: await digestsOf(target, user),
          onProgress: (p: ImportProgress) => progress.update(p.done, p.total, `imported ${p.imported}, already there ${p.skipped}`),
        });
        progress.stop();
        const seconds = (Date.now() - began) / 1000;
        process.stdout.write(
          `imported ${summary.imported} messages (${mib(summary.bytes)} MiB) into ${summary.mailboxes.length} mailboxes ` +
            `for ${user} in ${seconds.toFixed(1)} s; ${summary.skipped} already there${target.online ? ' (through the running server)' : ''}\n`,
        );
        for (const f of summary.failed) process.stderr.write(`failed: ${f.origin}: ${f.error}\n`);
        if (summary.droppedKeywords.length > 0) {
          process.stderr.write(`keywords left out (not valid IMAP flags): ${summary.droppedKeywords.map((k) => JSON.stringify(k)).join(', ')}\n`);
        }
        if (summary.failed.length > 0) process.exitCode = 1;
      } finally {
        progress.stop();
        await target.close();
      }
    });
}

/** `postroom import --user NAME --maildir PATH | --mbox PATH`: bring existing mail into the data folder. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import { importMail, type ImportProgress, type ImportSource } from '../../store/import/index.js';
import { SqliteStore } from '../../store/sqlite/index.js';

type Options = Record<string, unknown>;

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

export function register(program: Command): void {
  program
    .command('import')
    .description('import a Maildir tree (Dovecot or Courier layout) or an mbox file into the SQLite store; re-running skips what is already there')
    .requiredOption('--user <name>', 'the user whose mail this becomes')
    .option('--maildir <path>', 'Maildir root: INBOX, with subfolders as mailboxes')
    .option('--mbox <path>', 'an mbox file')
    .option('--mailbox <name>', 'target mailbox for --mbox', 'INBOX')
    .option('--data <dir>', `data folder (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', 'take the data folder from this serve config file')
    .option('--no-progress', 'no progress bar')
    .action(async (options: Options) => {
      const from = source(options);
      const settings = await resolveSettings({ data: options['data'], config: options['config'] });
      const store = await SqliteStore.open({ directory: settings.data });
      const showBar = options['progress'] !== false && process.stderr.isTTY === true;
      const bar = new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} {unit} | imported {imported}, already there {skipped} | {duration_formatted}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const onProgress = (p: ImportProgress): void => {
        if (!showBar) return;
        const payload = { unit: p.unit, imported: p.imported, skipped: p.skipped };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      };
      const began = Date.now();
      try {
        const summary = await importMail({
          store,
          user: String(options['user']),
          source: from,
          digests: (_handle, mailboxId) => store.contentDigests(String(options['user']), mailboxId),
          onProgress,
        });
        if (started) bar.stop();
        started = false;
        const seconds = (Date.now() - began) / 1000;
        process.stdout.write(
          `imported ${summary.imported} messages (${mib(summary.bytes)} MiB) into ${summary.mailboxes.length} mailboxes ` +
            `for ${String(options['user'])} in ${seconds.toFixed(1)} s; ${summary.skipped} already there\n`,
        );
        for (const f of summary.failed) process.stderr.write(`failed: ${f.origin}: ${f.error}\n`);
        if (summary.droppedKeywords.length > 0) {
          process.stderr.write(`keywords left out (not valid IMAP flags): ${summary.droppedKeywords.map((k) => JSON.stringify(k)).join(', ')}\n`);
        }
        if (summary.failed.length > 0) process.exitCode = 1;
      } finally {
        if (started) bar.stop();
        await store.close();
      }
    });
}

/** `postroom export --user NAME --maildir PATH`: write a user's mail out as a Maildir++ tree. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import { exportMaildir } from '../../store/import/index.js';
import { SqliteStore } from '../../store/sqlite/index.js';

type Options = Record<string, unknown>;

export function register(program: Command): void {
  program
    .command('export')
    .description("export a user's mail from the SQLite store to a Maildir++ tree (Dovecot/Courier layout); re-running adds only new messages")
    .requiredOption('--user <name>', 'whose mail to export')
    .requiredOption('--maildir <path>', 'Maildir root to write (created when missing)')
    .option('--lf', 'write bare-LF line ends instead of the stored CRLF bytes')
    .option('--data <dir>', `data folder (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', 'take the data folder from this serve config file')
    .option('--no-progress', 'no progress bar')
    .action(async (options: Options) => {
      const settings = await resolveSettings({ data: options['data'], config: options['config'] });
      const store = await SqliteStore.open({ directory: settings.data });
      const showBar = options['progress'] !== false && process.stderr.isTTY === true;
      const bar = new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} messages', stream: process.stderr }, cliProgress.Presets.shades_classic);
      let started = false;
      try {
        const summary = await exportMaildir({
          store,
          user: String(options['user']),
          path: String(options['maildir']),
          lf: options['lf'] === true,
          onProgress: ({ done, total }) => {
            if (!showBar) return;
            if (!started) {
              bar.start(total, done);
              started = true;
            } else bar.update(done);
          },
        });
        if (started) bar.stop();
        started = false;
        process.stdout.write(
          `exported ${summary.exported} messages (${(summary.bytes / 1048576).toFixed(1)} MiB) from ${summary.mailboxes} mailboxes to ${String(options['maildir'])}; ${summary.skipped} already there\n`,
        );
        if (summary.droppedKeywords.length > 0) {
          process.stderr.write(`warning: more than 26 keywords in a folder; not written: ${summary.droppedKeywords.join(' ')}\n`);
        }
      } finally {
        if (started) bar.stop();
        await store.close();
      }
    });
}

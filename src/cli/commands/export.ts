/** `postroom export --user NAME --maildir PATH`: write a user's mail out as a Maildir++ tree, also while the server runs. */
import type { Command } from 'commander';
import { exportMaildir } from '../../store/import/index.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, requireKnownUser, withServerOptions, type Options } from '../admin/options.js';
import { checkExportTarget } from '../admin/sources.js';
import { createProgress } from '../progress.js';

export function register(program: Command): void {
  withServerOptions(
    program
      .command('export')
      .description("export a user's mail to a Maildir++ tree (Dovecot/Courier layout; folders 0700, files 0600); re-running adds only new messages. Works while the server runs."),
  )
    .requiredOption('--user <name>', 'whose mail to export')
    .requiredOption('--maildir <path>', 'Maildir root to write (created when missing)')
    .option('--lf', 'write bare-LF line ends instead of the stored CRLF bytes')
    .option('--no-progress', 'no progress output (a bar on a terminal, otherwise a line every 5 s)')
    .action(async (options: Options) => {
      const user = String(options['user']);
      const path = String(options['maildir']);
      checkExportTarget(path);
      const settings = await adminSettings(options);
      const target = await openAdminTarget(settings);
      const progress = createProgress({ unit: 'messages', label: 'export', enabled: options['progress'] !== false });
      try {
        await requireKnownUser(settings, target, user);
        const summary = await exportMaildir({
          store: target.store,
          user,
          path,
          lf: options['lf'] === true,
          onProgress: ({ done, total }) => progress.update(done, total),
        });
        progress.stop();
        process.stdout.write(
          `exported ${summary.exported} messages (${(summary.bytes / 1048576).toFixed(1)} MiB) from ${summary.mailboxes} mailboxes to ${path}; ${summary.skipped} already there\n`,
        );
        if (summary.droppedKeywords.length > 0) {
          process.stderr.write(`warning: more than 26 keywords in a folder; not written: ${summary.droppedKeywords.join(' ')}\n`);
        }
      } finally {
        progress.stop();
        await target.close();
      }
    });
}

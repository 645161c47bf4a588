/**
 * `postroom backup --to FILE`: a consistent copy of the SQLite store as one file, taken while the
 * server runs (SQLite's online backup API; src/store/sqlite/backup.ts) or, with none running, from
 * the store opened here. Through a server the copy is made in the data folder and streamed over the
 * control socket, so this command writes FILE as its own user wherever it may write.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BackupProgress, BackupSummary } from '../../store/sqlite/backup.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, withServerOptions, type Options } from '../admin/options.js';
import { createProgress } from '../progress.js';

function checkDestination(to: string): void {
  const dir = dirname(to);
  if (!existsSync(dir)) throw new Error(`--to ${to}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`--to ${to}: ${dir} is not a folder`);
  if (existsSync(to) && statSync(to).isDirectory()) throw new Error(`--to ${to}: is a folder; give a file name`);
}

/** Writes the streamed chunks to a 0600 temporary file, renamed to `to` once complete and synced. */
async function receiveInto(to: string, receive: (write: (chunk: Buffer) => Promise<void>) => Promise<BackupSummary>): Promise<BackupSummary> {
  const temp = join(dirname(to), `.${basename(to)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const file = await open(temp, 'wx', 0o600);
  try {
    const summary = await receive(async (chunk) => {
      await file.write(chunk);
    });
    await file.sync();
    await file.close();
    await rename(temp, to);
    return summary;
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

export function register(program: Command): void {
  withServerOptions(
    program.command('backup').description('copy the SQLite store to one file, consistently, while the server runs (or not); restore by putting it in place of DATA/mail.sqlite'),
  )
    .requiredOption('--to <file>', 'the backup file to write (mode 0600; replaced if it exists)')
    .option('--no-progress', 'no progress output')
    .action(async (options: Options) => {
      const to = resolve(String(options['to']));
      checkDestination(to);
      const settings = await adminSettings(options);
      const target = await openAdminTarget(settings);
      const progress = createProgress({ unit: 'pages', label: 'backup', enabled: options['progress'] !== false });
      const report = (p: BackupProgress): void => progress.update(p.done, p.total, p.phase === 'bodies' ? 'large bodies' : '');
      const began = Date.now();
      let summary: BackupSummary;
      try {
        if (target.online) {
          const client = target.client;
          summary = await receiveInto(to, (write) =>
            client.request<BackupSummary>('backup', {}, async (event, data) => {
              if (event === 'progress') report(data as BackupProgress);
              else if (event === 'chunk') await write(data as Buffer);
            }),
          );
        } else {
          summary = await target.sqlite.backup(to, report);
        }
      } finally {
        progress.stop();
        await target.close();
      }
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      process.stdout.write(
        `backed up ${summary.messages} messages of ${summary.users} users (${summary.mailboxes} mailboxes, ${mib(summary.bytes)} MiB) to ${to} in ${seconds} s` +
          `${target.online ? ' from the running server' : ''}\n`,
      );
    });
}

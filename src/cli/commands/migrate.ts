/**
 * `postroom migrate --from sqlite:DATA --to postgres://…` (or the reverse): copies every user's mail
 * keeping UIDVALIDITY, UIDs, flags, keywords, modseqs, internal dates and subscriptions, so clients
 * keep their caches, with Sieve scripts, ACLs, each reader's own \Seen in shared mailboxes,
 * annotations and stored quota limits. `--verify` then compares all of it in both stores.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { migrateMail, usersToMigrate, type MigrateProgress } from '../../store/migrate/copy.js';
import { isMigrationTarget, listsUsers, type MigrationSource, type MigrationTarget } from '../../store/migrate/types.js';
import { verifyMigration } from '../../store/migrate/verify.js';
import type { MailStore } from '../../store/types.js';
import { redactUrl } from '../../store/postgres/url.js';

type Options = Record<string, unknown>;

const FORMS = 'sqlite:DATA-FOLDER or postgres://user:password@host:port/database';

async function openEnd(spec: string, role: 'from' | 'to'): Promise<MailStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresStore } = await import('../../store/postgres/index.js');
    return PostgresStore.open({ connectionString: spec, collectIntervalMs: 0 });
  }
  if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) {
    const { SqliteStore } = await import('../../store/sqlite/index.js');
    return SqliteStore.open({ directory: resolve(spec.slice('sqlite:'.length)) });
  }
  throw new Error(`--${role} must be ${FORMS}, got "${spec}"`);
}

function describeEnd(spec: string): string {
  return spec.startsWith('sqlite:') ? spec : redactUrl(spec);
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('copy all mail from one store to another (SQLite ⇄ PostgreSQL), keeping UIDs, modseqs and flags, ACLs, annotations and quota limits')
    .requiredOption('--from <store>', `source: ${FORMS}`)
    .requiredOption('--to <store>', `target (its users must have no mail yet): ${FORMS}`)
    .option('--user <name...>', 'only these users (default: every user of the source)')
    .option('--verify', 'afterwards, compare every mailbox, message, Sieve script, ACL, private \\Seen, annotation and quota limit of both stores (exit 1 on any difference)')
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', '\nStop every server using the source first: mail that arrives during the copy would be left behind.')
    .action(async (options: Options) => {
      const fromSpec = String(options['from']);
      const toSpec = String(options['to']);
      const from = await openEnd(fromSpec, 'from');
      let to: MailStore | undefined;
      try {
        to = await openEnd(toSpec, 'to');
        if (!listsUsers(from) || !isMigrationTarget(to)) throw new Error('these stores cannot be migrated between');
        const source: MigrationSource = from as MigrationSource;
        const target = to as MailStore & MigrationTarget;
        const only = Array.isArray(options['user']) ? (options['user'] as string[]) : undefined;
        const users = await usersToMigrate(source, only);
        const showBar = options['progress'] !== false && process.stderr.isTTY === true;
        const bar = new cliProgress.SingleBar(
          { format: ' {bar} {percentage}% | {value}/{total} messages | {mib} MiB | {user} {mailbox} | {duration_formatted}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        let started = false;
        let lastLine = 0;
        const onProgress = (p: MigrateProgress): void => {
          const payload = { mib: mib(p.bytes), user: p.user, mailbox: p.mailbox };
          if (showBar) {
            if (!started) bar.start(p.total, p.done, payload);
            else bar.update(p.done, payload);
            started = true;
          } else if (Date.now() - lastLine > 2000) {
            lastLine = Date.now();
            process.stderr.write(`migrated ${p.done}/${p.total} messages (${mib(p.bytes)} MiB), now ${p.user}/${p.mailbox}\n`);
          }
        };
        const began = Date.now();
        process.stderr.write(`migrating ${users.length} user${users.length === 1 ? '' : 's'} from ${describeEnd(fromSpec)} to ${describeEnd(toSpec)}\n`);
        let summary;
        try {
          summary = await migrateMail({ from: source, to: target, users, onProgress });
        } finally {
          if (started) bar.stop();
        }
        process.stdout.write(
          `migrated ${summary.messages} messages (${mib(summary.bytes)} MiB) in ${summary.mailboxes} mailboxes of ${summary.users} users ` +
            `in ${((Date.now() - began) / 1000).toFixed(1)} s; ${summary.sieveScripts} Sieve scripts, ${summary.vacationMemories} vacation memories, ` +
            `${summary.aclEntries} ACL entries, ${summary.privateSeen} private \\Seen rows, ${summary.annotations} annotations, ` +
            `${summary.quotaLimits} quota limits\n`,
        );
        if (options['verify'] === true) {
          const checked = await verifyMigration(source, target, users);
          if (checked.differences.length > 0) {
            for (const d of checked.differences) process.stderr.write(`difference: ${d}\n`);
            process.stdout.write(`verify FAILED: ${checked.differences.length} difference(s) found\n`);
            process.exitCode = 1;
          } else {
            process.stdout.write(`verified: ${checked.users} users, ${checked.mailboxes} mailboxes, ${checked.messages} messages identical\n`);
          }
        }
      } finally {
        await to?.close();
        await from.close();
      }
    });
}

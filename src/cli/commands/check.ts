/**
 * `postroom check`: verifies the SQLite store — every body against its SHA-256 and size, every
 * reference, blobs/, the database pages — through the running server's control socket when one
 * runs (the "check" operation, src/cli/control/serve-operations.ts), else by opening the data folder itself. Exit codes: 0 nothing damaged
 * (orphans and strays may be listed), 2 damage found, 1 the check could not run.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import type { CheckProgress, CheckReport } from '../../store/sqlite/index.js';
import { isStoreError } from '../../store/errors.js';
import { connectControl, controlSocketPath } from '../admin/target.js';
import type { ServeSettings } from '../../config/settings.js';
import { formatReport } from './check-report.js';

type Options = Record<string, unknown>;

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_DAMAGED = 2;

/** Without a terminal, a progress line at most this often. */
const PROGRESS_LINE_MS = 5_000;

const PHASES: Record<CheckProgress['phase'], string> = {
  database: 'database pages',
  references: 'message references',
  bodies: 'message bodies',
  files: 'blobs/ entries',
};

function progressReporter(enabled: boolean): { update: (p: CheckProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      { format: ' {phase} {bar} {percentage}% | {value}/{total}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let phase: string | undefined;
    return {
      update: (p) => {
        if (p.phase !== phase) {
          if (phase !== undefined) bar.stop();
          phase = p.phase;
          bar.start(p.total, p.done, { phase: PHASES[p.phase].padEnd(18) });
        } else bar.update(p.done);
      },
      stop: () => {
        if (phase !== undefined) bar.stop();
      },
    };
  }
  let last = 0;
  let lastPhase: string | undefined;
  return {
    update: (p) => {
      const now = Date.now();
      if (p.phase === lastPhase && now - last < PROGRESS_LINE_MS && p.done < p.total) return;
      last = now;
      lastPhase = p.phase;
      const pct = p.total > 0 ? Math.floor((p.done * 100) / p.total) : 100;
      const bytes = p.bytes !== undefined ? `, ${(p.bytes / 1048576).toFixed(1)} of ${((p.totalBytes ?? 0) / 1048576).toFixed(1)} MB` : '';
      process.stderr.write(`check: ${PHASES[p.phase]} ${p.done}/${p.total} (${pct}%${bytes})\n`);
    },
    stop: () => undefined,
  };
}

/** The check inside a running server (its control socket), or null when none answers. */
async function checkOnline(settings: ServeSettings, quarantine: boolean, onProgress: (p: CheckProgress) => void): Promise<CheckReport | null> {
  const client = await connectControl(settings);
  if (!client) return null;
  try {
    return await client.request<CheckReport>('check', { quarantine }, (event, data) => {
      if (event === 'progress') onProgress(data as CheckProgress);
    });
  } finally {
    client.close();
  }
}

async function runCheck(settings: ServeSettings, quarantine: boolean, onProgress: (p: CheckProgress) => void): Promise<CheckReport> {
  const online = await checkOnline(settings, quarantine, onProgress);
  if (online) return online;
  const dataDir = settings.data;
  const { SqliteStore } = await import('../../store/sqlite/index.js');
  let store;
  try {
    store = await SqliteStore.open({ directory: dataDir, purpose: 'check' });
  } catch (err) {
    if (isStoreError(err) && err.kind === 'inuse') {
      throw new Error(
        `${err.message} It has no control socket (${controlSocketPath(settings)}) to run the check through: ` +
          'is it "postroom import" or "export", or a server from before "postroom check"? Run the check when it has finished.',
      );
    }
    throw err;
  }
  try {
    return await store.check({ quarantine, onProgress });
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('check')
    .description('verify the SQLite store: every message body against its SHA-256, every reference, blobs/, the database pages')
    .option('--data <dir>', `data folder (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', 'take the data folder from this serve config file')
    .option('--control-socket <path>', 'the running server\'s control socket (default: DATA/control.sock)')
    .option('--quarantine', 'move damaged body files and stray entries of blobs/ to DATA/quarantine/<time>/')
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText(
      'after',
      '\nWhile a server runs on the folder, the check runs inside it (through DATA/control.sock) and the server\n' +
        'keeps serving; otherwise the command opens the folder itself. Exit status: 0 nothing damaged (orphans\n' +
        'and strays may be listed), 2 damage found, 1 the check could not run. docs/cli.md has the details.',
    )
    .action(async (options: Options) => {
      const settings = await resolveSettings({ data: options['data'], config: options['config'], controlSocket: options['controlSocket'] });
      const progress = progressReporter(options['progress'] !== false);
      let report: CheckReport;
      try {
        report = await runCheck(settings, options['quarantine'] === true, progress.update);
      } catch (err) {
        progress.stop();
        process.stderr.write(`postroom check: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(EXIT_FAILED);
      }
      progress.stop();
      process.stdout.write(options['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exit(report.damaged ? EXIT_DAMAGED : EXIT_OK);
    });
}

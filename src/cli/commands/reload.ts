/** `postroom reload`: what SIGHUP does, asked over the control socket, with the outcome printed. */
import type { Command } from 'commander';
import type { ReloadReport } from '../control/serve-operations.js';
import { requireServer } from '../admin/target.js';
import { adminSettings, withServerOptions, type Options } from '../admin/options.js';

export function register(program: Command): void {
  withServerOptions(
    program.command('reload').description('make the running server read its TLS certificate and key again and check the users file (as SIGHUP)'),
  ).action(async (options: Options) => {
    const client = await requireServer(await adminSettings(options));
    try {
      const report = await client.request<ReloadReport>('reload');
      const workers = report.workers !== undefined ? ` (${report.workers} workers)` : '';
      process.stdout.write(`TLS certificate and key: ${report.tls}${workers}\n`);
      for (const p of report.usersFile) process.stderr.write(`warning: ${p}\n`);
      if (report.tls !== 'reloaded') process.exitCode = 1;
    } finally {
      client.close();
    }
  });
}

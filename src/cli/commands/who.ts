/** `postroom who` and `postroom kick`: the sessions of a running server. */
import type { Command } from 'commander';
import type { SessionInfo } from '../control/sessions.js';
import { requireServer } from '../admin/target.js';
import { adminSettings, withServerOptions, type Options } from '../admin/options.js';

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function sessionTable(sessions: SessionInfo[]): string {
  const rows = [
    ['ID', 'PROTO', 'USER', 'ADDRESS', 'TLS', 'STATE', 'MAILBOX', 'IDLE', ...(sessions.some((s) => s.worker !== undefined) ? ['WORKER'] : [])],
    ...sessions.map((s) => [
      s.id,
      s.protocol,
      s.user ?? '-',
      s.remoteAddress,
      s.secure ? 'yes' : 'no',
      s.state,
      s.mailbox ?? '-',
      duration(s.idleSeconds),
      ...(s.worker !== undefined ? [String(s.worker)] : []),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function register(program: Command): void {
  withServerOptions(program.command('who').description('list the sessions of the running server: user, address, protocol, state, mailbox, idle time'))
    .option('--json', 'one JSON object per session')
    .action(async (options: Options) => {
      const client = await requireServer(await adminSettings(options));
      try {
        const { sessions } = await client.request<{ sessions: SessionInfo[] }>('who');
        if (options['json'] === true) process.stdout.write(sessions.map((s) => `${JSON.stringify(s)}\n`).join(''));
        else process.stdout.write(sessions.length === 0 ? 'no sessions\n' : sessionTable(sessions));
      } finally {
        client.close();
      }
    });

  withServerOptions(program.command('kick').description("end sessions of the running server (after the command in flight; POP3 deletes nothing)"))
    .option('--user <name>', "every session of this user")
    .option('--id <id>', 'the session with this id (see "postroom who")')
    .action(async (options: Options) => {
      const user = typeof options['user'] === 'string' ? options['user'] : undefined;
      const id = typeof options['id'] === 'string' ? options['id'] : undefined;
      if ((user === undefined) === (id === undefined)) throw new Error('give exactly one of --user NAME or --id ID');
      const client = await requireServer(await adminSettings(options));
      try {
        const { kicked } = await client.request<{ kicked: SessionInfo[] }>('kick', user !== undefined ? { user } : { id });
        if (kicked.length === 0) {
          process.stdout.write(`no session matched ${user !== undefined ? `user ${user}` : `id ${id}`}\n`);
          return;
        }
        process.stdout.write(`ended ${kicked.length} session${kicked.length === 1 ? '' : 's'}:\n${sessionTable(kicked)}`);
      } finally {
        client.close();
      }
    });
}

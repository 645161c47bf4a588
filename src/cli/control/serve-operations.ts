/**
 * The operations `postroom serve` answers on its control socket — one table, built from what the
 * running server offers (a ServeRuntime). Other features add theirs the same way (an array of
 * ControlOperation passed to operationTable()).
 */
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ControlError, arg, operationTable, type ControlOperation } from '../../control/operations.js';
import { storeOperation } from '../../control/store-link.js';
import type { MailStore } from '../../store/types.js';
import type { SqliteStore } from '../../store/sqlite/store.js';
import type { SessionFilter, SessionInfo } from './sessions.js';

export interface ReloadReport {
  /** "reloaded", or why the previous certificate stays. */
  tls: string;
  /** What is wrong with the users file (UserFile.problems()). */
  usersFile: string[];
  /** Worker processes that reloaded (`--workers`). */
  workers?: number;
}

/** What the operations need of the running server (start.ts and cluster.ts provide it). */
export interface ServeRuntime {
  /** The store as the sessions use it: changes made through it reach them. */
  store: MailStore;
  /** The SQLite store itself, when that is the store (backup, the users it knows). */
  sqlite: SqliteStore | null;
  dataDir: string;
  status(): Promise<Record<string, unknown>>;
  sessions(): Promise<SessionInfo[]>;
  kick(filter: SessionFilter): Promise<SessionInfo[]>;
  reload(): Promise<ReloadReport>;
}

/** Bytes per chunk event of a streamed backup. */
const BACKUP_CHUNK = 1024 * 1024;

function sessionFilter(args: Record<string, unknown>): SessionFilter {
  const user = arg.optionalString(args, 'user');
  const id = arg.optionalString(args, 'id');
  if (user === undefined && id === undefined) throw new ControlError('bad-args', 'kick needs "user" or "id"');
  return { ...(user !== undefined ? { user } : {}), ...(id !== undefined ? { id } : {}) };
}

function requireSqlite(runtime: ServeRuntime): SqliteStore {
  if (!runtime.sqlite) throw new ControlError('unavailable', 'this server does not run the SQLite store');
  return runtime.sqlite;
}

export function serveOperations(runtime: ServeRuntime): ReturnType<typeof operationTable> {
  let checking = false;
  const ops: ControlOperation[] = [
    { name: 'status', summary: 'pid, version, uptime, listeners and workers of the server', run: () => runtime.status() },
    { name: 'who', summary: 'open sessions: id, protocol, user, address, state, mailbox, idle seconds', run: async () => ({ sessions: await runtime.sessions() }) },
    {
      name: 'kick',
      summary: '{"user"} or {"id"}: ends those sessions after their command in flight; answers the sessions ended',
      run: async (args) => ({ kicked: await runtime.kick(sessionFilter(args)) }),
    },
    { name: 'reload', summary: 'what SIGHUP does: reads the TLS certificate and key again, checks the users file', run: () => runtime.reload() },
    {
      name: 'users',
      summary: 'the users the store has mail for (null when the store cannot list them)',
      run: async () => ({ users: runtime.sqlite?.knownUsers() ?? null }),
    },
    storeOperation(runtime.store),
    {
      name: 'digests',
      summary: '{"user","mailboxId"}: [sha256 hex, count] of the bodies in a mailbox (import skips what is there)',
      run: async (args) => ({
        digests: [...(await requireSqlite(runtime).contentDigests(arg.string(args, 'user'), arg.string(args, 'mailboxId')))],
      }),
    },
    {
      name: 'health',
      summary: 'the SQLite store\'s health (disk full, damaged data met while serving) and its startup database check',
      run: async () => {
        const sqlite = requireSqlite(runtime);
        return { health: sqlite.health(), integrity: sqlite.integrity() };
      },
    },
    {
      name: 'check',
      summary: '{"quarantine"?}: verifies every body against its hash, every reference, blobs/ and the database pages; "progress" events, then the report',
      async run(args, call) {
        const sqlite = requireSqlite(runtime);
        if (checking) throw new ControlError('unavailable', 'a check is already running on this server');
        checking = true;
        let last = 0;
        try {
          return await sqlite.check({
            online: true,
            quarantine: args['quarantine'] === true,
            onProgress: (progress) => {
              // At most a few progress events a second: the check must not wait for the socket.
              const now = Date.now();
              if (now - last < 250 && progress.done < progress.total) return;
              last = now;
              void call.event('progress', progress);
            },
          });
        } finally {
          checking = false;
        }
      },
    },
    {
      name: 'backup',
      summary: 'a consistent copy of the SQLite store, streamed back as "chunk" events (bytes) after "progress" events; answers the summary',
      async run(_args, call) {
        const sqlite = requireSqlite(runtime);
        const temp = join(runtime.dataDir, `.backup-${process.pid}-${randomBytes(4).toString('hex')}.sqlite`);
        let lastProgress = 0;
        try {
          const summary = await sqlite.backup(temp, (p) => {
            // At most a few progress events a second: the copy itself must not wait for the socket.
            const now = Date.now();
            if (now - lastProgress < 250 && p.done < p.total) return;
            lastProgress = now;
            void call.event('progress', p);
          });
          const file = await open(temp, 'r');
          try {
            for (;;) {
              const buffer = Buffer.allocUnsafe(BACKUP_CHUNK);
              const { bytesRead } = await file.read(buffer, 0, BACKUP_CHUNK, null);
              if (bytesRead === 0) break;
              await call.event('chunk', buffer.subarray(0, bytesRead));
            }
          } finally {
            await file.close();
          }
          return summary;
        } finally {
          await rm(temp, { force: true });
        }
      },
    },
  ];
  const table = operationTable(ops);
  table.set('help', {
    name: 'help',
    summary: 'the operations of this socket with their summaries',
    run: async () => ({ operations: [...table.values()].map((o) => ({ name: o.name, summary: o.summary })) }),
  });
  return table;
}

/**
 * Where an admin command's work happens: on the running server, through its control socket (the
 * store the server's sessions use, so they hear of the changes), or — when no server runs — on the
 * SQLite store opened here, which the server would otherwise hold locked. Commands are written once
 * against `AdminTarget` and work both ways.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ServeSettings } from '../../config/settings.js';
import { ControlClient } from '../../control/client.js';
import { controlledStore } from '../../control/store-link.js';
import type { SqliteStore } from '../../store/sqlite/store.js';
import type { MailStore } from '../../store/types.js';

export const CONTROL_SOCKET_FILE = 'control.sock';

export function controlSocketPath(settings: Pick<ServeSettings, 'data' | 'controlSocket'>): string {
  return settings.controlSocket ?? join(settings.data, CONTROL_SOCKET_FILE);
}

export type AdminTarget =
  | { online: true; client: ControlClient; store: MailStore; close(): Promise<void> }
  | { online: false; sqlite: SqliteStore; store: MailStore; close(): Promise<void> };

/** The data folder must exist and be a folder; commands never create it by accident. */
export function requireDataFolder(data: string): void {
  if (!existsSync(data)) {
    throw new Error(`data folder ${data} does not exist (give --data or --config; "postroom serve" or "postroom user add" create it)`);
  }
  if (!statSync(data).isDirectory()) throw new Error(`data folder ${data} is not a folder`);
}

/** Connects to the server's control socket; null when no server listens there. */
export async function connectControl(settings: Pick<ServeSettings, 'data' | 'controlSocket'>): Promise<ControlClient | null> {
  const path = controlSocketPath(settings);
  try {
    return await ControlClient.connect(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    if (code === 'EACCES') throw new Error(`control socket ${path}: permission denied (run this as the user that runs postroom serve, or as root)`);
    throw new Error(`control socket ${path}: ${(err as Error).message}`);
  }
}

/** A running server is needed (who, kick, reload). */
export async function requireServer(settings: Pick<ServeSettings, 'data' | 'controlSocket'>): Promise<ControlClient> {
  const client = await connectControl(settings);
  if (!client) throw new Error(`no server is running on ${settings.data} (nothing answers on ${controlSocketPath(settings)})`);
  return client;
}

/**
 * The server's store when one runs, else the SQLite store of the data folder opened here — created
 * there only when `create` (import); the other commands refuse a folder without one.
 */
export async function openAdminTarget(settings: ServeSettings, options: { create?: boolean } = {}): Promise<AdminTarget> {
  requireDataFolder(settings.data);
  const client = await connectControl(settings);
  if (client) {
    return { online: true, client, store: controlledStore(client), close: async () => client.close() };
  }
  if (settings.store !== 'sqlite') {
    throw new Error(`the ${settings.store} store lives only inside a running server, and none answers on ${controlSocketPath(settings)}`);
  }
  if (options.create !== true && !existsSync(join(settings.data, 'mail.sqlite'))) {
    throw new Error(`no mail store in ${settings.data} (there is no mail.sqlite), and no server answers on ${controlSocketPath(settings)}`);
  }
  const { SqliteStore } = await import('../../store/sqlite/index.js');
  let sqlite: SqliteStore;
  try {
    // The same default limits as the server, so `postroom quota get` and `deliver` agree with it.
    const { quotaDefaults } = await import('../quota-defaults.js');
    const { UserFile } = await import('../../auth/user-file.js');
    sqlite = await SqliteStore.open({ directory: settings.data, quotaDefaults: quotaDefaults(UserFile.inDataDir(settings.data), settings.quota) });
  } catch (err) {
    if ((err as { kind?: string }).kind === 'inuse') {
      throw new Error(`${(err as Error).message} Its control socket ${controlSocketPath(settings)} does not answer: if it runs with another controlSocket setting, give the same --config.`);
    }
    throw err;
  }
  return { online: false, sqlite, store: sqlite, close: () => sqlite.close() };
}

/** The users the store has mail for, from the server or the store opened here. */
export async function storeUsers(target: AdminTarget): Promise<string[] | null> {
  if (!target.online) return target.sqlite.knownUsers();
  const reply = await target.client.request<{ users: string[] | null }>('users');
  return reply.users;
}

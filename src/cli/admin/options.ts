/** Options and checks the admin commands share (who, kick, mailbox, reload, backup, import, export). */
import type { Command } from 'commander';
import { UserFile } from '../../auth/user-file.js';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS, type ServeSettings } from '../../config/settings.js';
import { storeUsers, type AdminTarget } from './target.js';

export type Options = Record<string, unknown>;

export function withServerOptions(command: Command): Command {
  return command
    .option('--data <dir>', `data folder of the server (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', "the server's config file (data folder, store, control socket)")
    .option('--control-socket <path>', 'the control socket, when the server was given another one (default: DATA/control.sock)');
}

/** The settings an admin command needs: data folder, store kind, control socket. */
export function adminSettings(options: Options): Promise<ServeSettings> {
  return resolveSettings({ data: options['data'], config: options['config'], controlSocket: options['controlSocket'] });
}

/** Import only: mail for a name nobody can log in as would be unreachable. */
export async function requireUserInUsersFile(settings: ServeSettings, user: string): Promise<void> {
  const users = UserFile.inDataDir(settings.data);
  if (!(await users.lookup(user))) {
    throw new Error(`no user "${user}" in ${users.path}: add it first with "postroom user add ${user}"`);
  }
}

/** The user is in the users file or has mail in the store (a deleted user's mail can still be handled). */
export async function requireKnownUser(settings: ServeSettings, target: AdminTarget, user: string): Promise<void> {
  const users = UserFile.inDataDir(settings.data);
  if (await users.lookup(user)) return;
  const stored = await storeUsers(target);
  if (stored === null || stored.includes(user)) return;
  throw new Error(`no user "${user}": not in ${users.path}, and the store has no mail for "${user}"`);
}

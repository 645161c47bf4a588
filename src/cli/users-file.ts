/**
 * The users file as `serve` reads it: watched, so that a lookup (three per LMTP delivery, one per
 * login) costs no stat() while the file is unchanged (UserFileOptions.recheckMs). Setting
 * `usersFile` (config file only): `{ "recheckMs": 1000 }`; 0 stats the file at every lookup.
 */
import { UserFile } from '../auth/user-file.js';

export const DEFAULT_USERS_FILE_SETTING: Readonly<{ recheckMs: number }> = Object.freeze({ recheckMs: 1000 });

/** The data folder's users file with the `usersFile` setting applied; throws naming an unknown or invalid key. */
export function servedUsersFile(dataDir: string, setting: Record<string, number> | undefined): UserFile {
  for (const name of Object.keys(setting ?? {})) {
    if (!(name in DEFAULT_USERS_FILE_SETTING)) throw new RangeError(`usersFile: unknown setting "${name}" (known: recheckMs)`);
  }
  const { recheckMs } = { ...DEFAULT_USERS_FILE_SETTING, ...setting };
  if (!Number.isInteger(recheckMs) || recheckMs < 0) throw new RangeError('usersFile.recheckMs must be a whole number of at least 0');
  return UserFile.inDataDir(dataDir, { recheckMs });
}

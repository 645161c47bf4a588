/** `postroom user add|passwd|list|delete`: manage DATA/users, also while a server runs. */
import type { Command } from 'commander';
import { UserFile, scramKeysOf, type UserRecord } from '../../auth/user-file.js';
import { isSupportedHash, splitScheme } from '../../auth/password.js';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import { promptNewPassword, readPasswordFromStdin } from '../prompt.js';

type Options = Record<string, unknown>;

async function usersFile(options: Options): Promise<UserFile> {
  const settings = await resolveSettings(options);
  return UserFile.inDataDir(settings.data);
}

async function newPassword(options: Options): Promise<string> {
  return options['passwordStdin'] === true ? readPasswordFromStdin() : promptNewPassword();
}

function withDataOptions(command: Command): Command {
  return command
    .option('--data <dir>', `data folder holding the users file (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', 'take the data folder from this serve config file');
}

/**
 * `name<TAB>scheme<TAB>scram|-`, so an operator migrating from Dovecot can see who still has an
 * imported hash (they can log in, but not with SCRAM until they set a password) and which entries
 * Postroom cannot verify at all.
 */
function describeRecord(record: UserRecord): string {
  const scheme = splitScheme(record.hash)?.scheme ?? 'none';
  const usable = isSupportedHash(record.hash) ? scheme : `${scheme} (unsupported)`;
  return `${record.name}\t${usable}\t${scramKeysOf(record) ? 'scram' : '-'}`;
}

export function register(program: Command): void {
  const user = program
    .command('user')
    .description('manage the users allowed to log in (the DATA/users file; a running server picks changes up)');

  withDataOptions(user.command('add <name>').description('add a user; asks for the password'))
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(async (name: string, options: Options) => {
      const users = await usersFile(options);
      await users.add(name, await newPassword(options));
      process.stdout.write(`added user ${name}\n`);
    });

  withDataOptions(user.command('passwd <name>').description("change a user's password"))
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(async (name: string, options: Options) => {
      const users = await usersFile(options);
      // Fail before asking for a password that could not be used.
      if (!(await users.lookup(name))) throw new Error(`no user "${name}"`);
      await users.setPassword(name, await newPassword(options));
      process.stdout.write(`changed the password of ${name}\n`);
    });

  withDataOptions(user.command('list').description('print the user names, one per line'))
    .option('-l, --long', 'also print each password scheme and whether SCRAM-SHA-256 keys are stored')
    .action(async (options: Options) => {
      const users = await usersFile(options);
      // Entries that are ignored or cannot log in, and a loose file mode, are not kept quiet.
      for (const p of await users.problems()) process.stderr.write(`warning: ${p}\n`);
      if (options['long'] === true) {
        process.stdout.write((await users.records()).map((r) => `${describeRecord(r)}\n`).join(''));
        return;
      }
      const names = await users.list();
      process.stdout.write(names.map((n) => `${n}\n`).join(''));
    });

  withDataOptions(user.command('delete <name>').alias('del').description('remove a user (their mail stays in the store)')).action(
    async (name: string, options: Options) => {
      await (await usersFile(options)).delete(name);
      process.stdout.write(`deleted user ${name}\n`);
    },
  );
}

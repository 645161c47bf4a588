/**
 * `postroom sieve put|get|list|activate|deactivate|delete|check --user NAME [--name S] [FILE]`:
 * one user's Sieve scripts, through the running server (its control socket) or, with none
 * running, on the store opened here. Scripts are checked as ManageSieve checks them.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { compileSieve } from '../../sieve/index.js';
import { sieveStorage, type SieveScriptStorage } from '../../store/sieve-storage.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, requireKnownUser, withServerOptions, type Options } from '../admin/options.js';

async function withScripts(options: Options, fn: (scripts: SieveScriptStorage) => Promise<void>): Promise<void> {
  const user = String(options['user']);
  const settings = await adminSettings(options);
  const target = await openAdminTarget(settings);
  try {
    await requireKnownUser(settings, target, user);
    const mail = await target.store.open(user);
    try {
      await fn(sieveStorage(mail));
    } finally {
      await mail.close();
    }
  } finally {
    await target.close();
  }
}

/** The script's text from FILE, or stdin when FILE is "-" or absent. */
async function readScript(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== '-') return readFile(file, 'utf8');
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Errors with line and column, as PUTSCRIPT reports them; throws when the script is not valid. */
function checkScript(source: string, label: string): void {
  const result = compileSieve(source);
  if (!result.ok) throw new Error(result.errors.map((e) => `${label}: line ${e.line}, column ${e.column}: ${e.message}`).join('\n'));
  for (const w of result.warnings) process.stderr.write(`${label}: line ${w.line}, column ${w.column}: warning: ${w.message}\n`);
}

function nameOf(options: Options, file: string | undefined): string {
  const given = options['name'];
  if (typeof given === 'string' && given !== '') return given;
  if (file !== undefined && file !== '-') return file.replace(/^.*\//, '').replace(/\.(sieve|siv)$/, '');
  throw new Error('--name is needed when the script comes from stdin');
}

function sub(parent: Command, spec: string, description: string): Command {
  return withServerOptions(parent.command(spec).description(description)).requiredOption('--user <name>', 'whose scripts');
}

export function register(program: Command): void {
  const sieve = program.command('sieve').description("manage one user's Sieve scripts (on the running server when there is one)");

  sub(sieve, 'list', 'the scripts, one per line; the active one marked ACTIVE').action((options: Options) =>
    withScripts(options, async (scripts) => {
      for (const s of await scripts.sieveList()) process.stdout.write(`${s.name}\t${s.size}${s.active ? '\tACTIVE' : ''}\n`);
    }),
  );

  sub(sieve, 'put [file]', 'store a script (checked first) from FILE or stdin; --activate makes it the active one')
    .option('--name <name>', 'script name (default: the file name without .sieve)')
    .option('--activate', 'make it the active script')
    .action(async (file: string | undefined, options: Options) => {
      const source = await readScript(file);
      const name = nameOf(options, file);
      checkScript(source, name);
      await withScripts(options, async (scripts) => {
        await scripts.sievePut(name, source);
        if (options['activate'] === true) await scripts.sieveSetActive(name);
        process.stdout.write(`stored ${name}${options['activate'] === true ? ' (active)' : ''}\n`);
      });
    });

  sub(sieve, 'get <name>', 'print a script').action((name: string, options: Options) =>
    withScripts(options, async (scripts) => {
      process.stdout.write(await scripts.sieveGet(name));
    }),
  );

  sub(sieve, 'activate <name>', 'make a script the active one').action((name: string, options: Options) =>
    withScripts(options, async (scripts) => {
      checkScript(await scripts.sieveGet(name), name);
      await scripts.sieveSetActive(name);
      process.stdout.write(`activated ${name}\n`);
    }),
  );

  sub(sieve, 'deactivate', 'no active script: mail is delivered unfiltered').action((options: Options) =>
    withScripts(options, async (scripts) => {
      await scripts.sieveSetActive(null);
      process.stdout.write('no script is active\n');
    }),
  );

  sub(sieve, 'delete <name>', 'delete a script (not the active one)').action((name: string, options: Options) =>
    withScripts(options, async (scripts) => {
      await scripts.sieveDelete(name);
      process.stdout.write(`deleted ${name}\n`);
    }),
  );

  withServerOptions(sieve.command('check [file]').description('check a script from FILE or stdin without storing it (no server or user needed)'))
    .option('--user <name>', 'ignored: scripts are checked the same for everyone')
    .action(async (file: string | undefined) => {
      checkScript(await readScript(file), file ?? 'stdin');
      process.stdout.write('valid\n');
    });
}

#!/usr/bin/env node
/** The `postroom` command. Each sub-command lives in commands/ and registers itself. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as registerServe } from './commands/serve.js';
import { register as registerUser } from './commands/user.js';
import { register as registerImport } from './commands/import.js';
import { register as registerExport } from './commands/export.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerDeliver } from './commands/deliver.js';
import { register as registerWho } from './commands/who.js';
import { register as registerMailbox } from './commands/mailbox.js';
import { register as registerQuota } from './commands/quota.js';
import { register as registerAcl } from './commands/acl.js';
import { register as registerSieve } from './commands/sieve.js';
import { register as registerReload } from './commands/reload.js';
import { register as registerBackup } from './commands/backup.js';
import { register as registerMigrate } from './commands/migrate.js';

function version(): string {
  // ../../package.json from both src/cli/main.ts and dist/cli/main.js.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

function buildProgram(): Command {
  const program = new Command('postroom')
    .description('Postroom: an IMAP4rev1 / POP3 mail-access server with LMTP delivery')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Before the sub-commands exist, so they inherit it: usage errors reach main() as CommanderError.
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  postroom serve --demo                      try it: creates user "demo" and prints how to connect
  postroom user add ann --data ./data        add a user (asks for the password)
  echo "$PW" | postroom user add ann --password-stdin
  postroom serve --config postroom.json      settings from a JSON file (flags override it)
  postroom check --data ./data               verify every stored message (also while serve runs)
  postroom deliver --user ann < message.eml  deliver a message (an LDA; docs/delivery.md)
  postroom who --data ./data                 who is connected to the running server
  postroom backup --to mail-$(date +%F).sqlite --data ./data
  postroom migrate --from sqlite:./data --to postgres://mail@db/mail --verify

Run "postroom help <command>" for the options of a command; docs/cli.md and
docs/configuration.md describe them all.`,
    );
  registerServe(program);
  registerUser(program);
  registerImport(program);
  registerExport(program);
  registerCheck(program);
  registerDeliver(program);
  registerWho(program);
  registerMailbox(program);
  registerQuota(program);
  registerAcl(program);
  registerSieve(program);
  registerReload(program);
  registerBackup(program);
  registerMigrate(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`postroom: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

await main();

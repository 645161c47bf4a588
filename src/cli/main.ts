#!/usr/bin/env node
/** The `postroom` command. Each sub-command lives in commands/ and registers itself. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as registerServe } from './commands/serve.js';
import { register as registerUser } from './commands/user.js';

type Register = (program: Command) => void;

function version(): string {
  // ../../package.json from both src/cli/main.ts and dist/cli/main.js.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** import/export are written separately; they join the CLI as soon as their files exist. */
async function optionalCommands(): Promise<Register[]> {
  const found: Register[] = [];
  for (const name of ['import', 'export']) {
    const specifier = `./commands/${name}.js`;
    try {
      const mod = (await import(specifier)) as { register?: Register };
      if (typeof mod.register === 'function') found.push(mod.register);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`commands/${name}`);
      if (!missing) throw err;
    }
  }
  return found;
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('postroom')
    .description('Postroom: an IMAP4rev1 / POP3 mail-access server')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)');
  registerServe(program);
  registerUser(program);
  for (const register of await optionalCommands()) register(program);
  return program;
}

async function main(): Promise<void> {
  const program = await buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`postroom: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

await main();

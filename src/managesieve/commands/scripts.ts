/**
 * The script commands (RFC 5804 §2.5–2.10, 2.11.1, 2.12): over the store's per-user script
 * storage (src/store/sieve-storage.ts). Store errors become response codes in one place
 * (errors.ts): nonexistent → NONEXISTENT, alreadyexists → ALREADYEXISTS, inuse → ACTIVE.
 */
import { sieveStorage, utf8Size, type SieveScriptStorage } from '../../store/sieve-storage.js';
import type { SieveDiagnostic } from '../../sieve/types.js';
import { ManageSieveError, type ManageSieveCommand, type ManageSieveContext, type Reply } from '../types.js';
import { encodeString } from '../wire/encode.js';
import { decodeUtf8, SyntaxError, type Args } from '../wire/tokens.js';

function scripts(ctx: ManageSieveContext): SieveScriptStorage {
  return sieveStorage(ctx.mail!);
}

/** §1.6: non-empty, no controls or line/paragraph separators, Net-Unicode (NFC), within the length limit. */
export function scriptNameProblem(name: string, maxBytes: number): string | null {
  if (name === '') return 'Script name is empty';
  if (utf8Size(name) > maxBytes) return `Script name is longer than ${maxBytes} octets`;
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return 'Script name contains a forbidden character';
  if (name.normalize('NFC') !== name) return 'Script name is not in Unicode normal form C';
  return null;
}

function readName(ctx: ManageSieveContext, args: Args, what = 'script name'): string {
  const name = args.string(what);
  const problem = scriptNameProblem(name, ctx.services.limits.maxScriptNameBytes);
  if (problem) throw new ManageSieveError(problem);
  return name;
}

function readScript(ctx: ManageSieveContext, args: Args): string {
  const bytes = args.bytes('script');
  if (bytes.length > ctx.services.limits.maxScriptBytes) {
    throw new ManageSieveError(`Script is larger than ${ctx.services.limits.maxScriptBytes} octets`, 'QUOTA/MAXSIZE');
  }
  try {
    return decodeUtf8(bytes, 'The script');
  } catch (err) {
    throw new ManageSieveError((err as SyntaxError).message);
  }
}

function describe(diagnostics: readonly SieveDiagnostic[]): string {
  return diagnostics.map((d) => `line ${d.line}, column ${d.column}: ${d.message}`).join('\r\n');
}

/** Compiles as delivery would; NO with every error's line and column (§2.6), or the warnings. */
function check(ctx: ManageSieveContext, source: string): { warnings?: string } {
  if (source.length === 0) throw new ManageSieveError('Script is empty');
  const result = ctx.services.compile(source);
  if (!result.ok) throw new ManageSieveError(describe(result.errors));
  return result.warnings.length > 0 ? { warnings: describe(result.warnings) } : {};
}

function okWithWarnings(done: string, warnings: string | undefined): Reply {
  return warnings ? { status: 'OK', code: 'WARNINGS', text: warnings } : { status: 'OK', text: done };
}

/** Whether a script of `size` octets may be stored as `name`: limits on size and count (§1.5). */
async function checkSpace(ctx: ManageSieveContext, name: string, size: number): Promise<void> {
  const { limits } = ctx.services;
  if (size > limits.maxScriptBytes) throw new ManageSieveError(`Script is larger than ${limits.maxScriptBytes} octets`, 'QUOTA/MAXSIZE');
  const list = await scripts(ctx).sieveList();
  if (!list.some((s) => s.name === name) && list.length >= limits.maxScripts) {
    throw new ManageSieveError(`At most ${limits.maxScripts} scripts`, 'QUOTA/MAXSCRIPTS');
  }
}

export const havespaceCommand: ManageSieveCommand = {
  name: 'HAVESPACE',
  state: 'auth',
  async run(ctx, args) {
    const name = readName(ctx, args);
    const size = args.number('script size');
    args.end();
    await checkSpace(ctx, name, size);
    return { status: 'OK', text: 'Putscript would succeed' };
  },
};

export const putscriptCommand: ManageSieveCommand = {
  name: 'PUTSCRIPT',
  state: 'auth',
  async run(ctx, args) {
    const name = readName(ctx, args);
    const source = readScript(ctx, args);
    args.end();
    const { warnings } = check(ctx, source);
    await checkSpace(ctx, name, utf8Size(source));
    await scripts(ctx).sievePut(name, source);
    ctx.logger?.info({ user: ctx.user, script: name, size: utf8Size(source) }, 'sieve script stored');
    return okWithWarnings('Putscript completed', warnings);
  },
};

export const checkscriptCommand: ManageSieveCommand = {
  name: 'CHECKSCRIPT',
  state: 'auth',
  async run(ctx, args) {
    const source = readScript(ctx, args);
    args.end();
    const { warnings } = check(ctx, source);
    return okWithWarnings('Script is valid', warnings);
  },
};

export const listscriptsCommand: ManageSieveCommand = {
  name: 'LISTSCRIPTS',
  state: 'auth',
  async run(ctx, args) {
    args.end();
    const list = await scripts(ctx).sieveList();
    return { lines: list.map((s) => `${encodeString(s.name)}${s.active ? ' ACTIVE' : ''}\r\n`), status: 'OK', text: 'Listscripts completed' };
  },
};

export const setactiveCommand: ManageSieveCommand = {
  name: 'SETACTIVE',
  state: 'auth',
  async run(ctx, args) {
    const name = args.string('script name');
    args.end();
    if (name === '') {
      await scripts(ctx).sieveSetActive(null);
      return { status: 'OK', text: 'No script is active' };
    }
    const problem = scriptNameProblem(name, ctx.services.limits.maxScriptNameBytes);
    if (problem) throw new ManageSieveError(problem);
    // The stored text was valid when it was put; the server's extensions may have changed since.
    check(ctx, await scripts(ctx).sieveGet(name));
    await scripts(ctx).sieveSetActive(name);
    ctx.logger?.info({ user: ctx.user, script: name }, 'sieve script activated');
    return { status: 'OK', text: 'Setactive completed' };
  },
};

export const getscriptCommand: ManageSieveCommand = {
  name: 'GETSCRIPT',
  state: 'auth',
  async run(ctx, args) {
    const name = readName(ctx, args);
    args.end();
    const content = await scripts(ctx).sieveGet(name);
    const bytes = Buffer.from(content, 'utf8');
    // Always a literal: the script is multi-line text (§2.9).
    return { lines: [`{${bytes.length}}\r\n${content}\r\n`], status: 'OK', text: 'Getscript completed' };
  },
};

export const deletescriptCommand: ManageSieveCommand = {
  name: 'DELETESCRIPT',
  state: 'auth',
  async run(ctx, args) {
    const name = readName(ctx, args);
    args.end();
    await scripts(ctx).sieveDelete(name);
    return { status: 'OK', text: 'Deletescript completed' };
  },
};

export const renamescriptCommand: ManageSieveCommand = {
  name: 'RENAMESCRIPT',
  state: 'auth',
  async run(ctx, args) {
    const from = readName(ctx, args, 'old script name');
    const to = readName(ctx, args, 'new script name');
    args.end();
    await scripts(ctx).sieveRename(from, to);
    return { status: 'OK', text: 'Renamescript completed' };
  },
};

/**
 * The package as a user gets it: `npm pack`, unpacked into a scratch project, type-checked with
 * skipLibCheck off under moduleResolution node16, bundler and node10, every documented entry point
 * imported, a store run through the conformance suite from `postroom/conformance`, and `import
 * 'postroom'` shown not to load the native modules (better-sqlite3, argon2), nor pino, prom-client,
 * smtp-server or libmime (loaded on first use).
 *
 * No network: instead of `npm install`, the tarball is unpacked into the scratch project's
 * node_modules/postroom and only the package's declared `dependencies` (plus the consumer's own
 * typescript and @types/node) are linked from this repository's node_modules — so a type the
 * declarations need from a devDependency is missing there, as it would be for a user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, existsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tempDirs } from '../helpers/temp-dirs.js';

const repo = resolve(import.meta.dirname, '../..');
const newDir = tempDirs('postroom-pack-');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; version: string; files: string[] };

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function link(consumer: string, name: string): void {
  const to = join(consumer, 'node_modules', name);
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(join(repo, 'node_modules', name), to, 'dir');
}

const CONSUMER_TS = `
import {
  createImapServer, createPop3Server, MemoryStore, StaticAuthenticator, StoreError, SYSTEM_FLAGS, CommandRegistry,
  parseSequenceSet, pinnedStream, toCrlf,
  type Pop3Server, type Pop3ConnectionInfo, type Pop3MessageContent, type Pop3LoginResult, type SequenceSet,
  type ServerContext, type MailStore, type UserMailbox, type CommandSpec, type MessageStream,
} from 'postroom';
import { runStoreConformance, storeConformanceCases, type ConformanceCase } from 'postroom/conformance';
import { startTestServer, type TestServer, type FaultRule } from 'postroom/testing';

const flags: readonly string[] = SYSTEM_FLAGS;
const seq: SequenceSet = parseSequenceSet('1:*');
const store: MailStore = new MemoryStore();
const pop3: Pop3Server = createPop3Server({ store, auth: new StaticAuthenticator({ alice: 'pw' }), port: 0 });
const info = (c: Pop3ConnectionInfo): string => c.id;
const content: Pop3MessageContent = 'x';
const login: Pop3LoginResult = true;
const ctx = (s: ServerContext): unknown => s;
const registry = new CommandRegistry();
const stream: MessageStream = pinnedStream(() => toCrlf(Buffer.from('a\\n')), async function* (b) { yield b; });
const cases: ConformanceCase[] = storeConformanceCases(() => new MemoryStore());
const err: boolean = new StoreError('noperm', 'x') instanceof StoreError;
const spec: CommandSpec | undefined = undefined;
const kit: () => Promise<TestServer> = () => startTestServer({ users: { a: 'b' } });
const rule: FaultRule = { command: 'FETCH', action: { type: 'drop' } };
export { kit, rule, flags, seq, info, content, login, ctx, registry, stream, cases, err, spec, createImapServer, runStoreConformance };
export type { UserMailbox };
`;

test('npm pack: the tarball installs, type-checks strictly, imports lazily and runs the conformance suite', { timeout: 300_000 }, async () => {
  const work = newDir();
  // npm ci built dist/ (prepare); build again only when a source file is newer.
  if (newestMtime(join(repo, 'src')) > (existsSync(join(repo, 'dist/index.js')) ? statSync(join(repo, 'dist/index.js')).mtimeMs : 0)) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: repo, stdio: 'pipe' });
  }
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: repo, encoding: 'utf8' });
  const [{ filename, files }] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('LICENSE'), 'a LICENSE file');
  assert.ok(!paths.some((p) => p.endsWith('.map')), 'no source maps pointing at an unshipped src/');
  assert.ok(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/')), 'no sources or tests');

  const consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules', 'postroom'), { recursive: true });
  execFileSync('tar', ['-xzf', join(work, filename), '-C', join(consumer, 'node_modules', 'postroom'), '--strip-components=1']);
  for (const dep of [...Object.keys(pkg.dependencies), 'typescript', '@types/node']) link(consumer, dep);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));

  // Every relative link in the shipped docs points at a shipped file.
  const installed = join(consumer, 'node_modules', 'postroom');
  for (const doc of ['README.md', ...readdirSync(join(installed, 'docs')).map((f) => `docs/${f}`)]) {
    for (const m of readFileSync(join(installed, doc), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (!target || /^[a-z]+:/.test(target)) continue;
      assert.ok(existsSync(join(installed, dirname(doc), target)), `${doc} links to ${target}, which is not in the package`);
    }
  }

  // Type-checking as a consumer, declarations included.
  writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
  const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const [module, moduleResolution] of [['node16', 'node16'], ['esnext', 'bundler'], ['commonjs', 'node10']] as const) {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022', module, moduleResolution, strict: true, skipLibCheck: false, noEmit: true, types: ['node'],
        // What a CommonJS-era project has on (tsc --init); node16 and bundler need nothing extra.
        ...(moduleResolution === 'node10' ? { esModuleInterop: true } : {}),
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(consumer, `tsconfig.${moduleResolution}.json`), JSON.stringify(tsconfig));
    // node10 cannot read `exports`: typesVersions must map the subpaths. Its consumer is CommonJS
    // only in name here (import type is all it checks), so the file is the same.
    const r = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${moduleResolution}.json`], { cwd: consumer, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc (${moduleResolution}) failed:\n${r.stdout}${r.stderr}`);
  }

  // Runtime: every entry point; `import 'postroom'` loads no native module.
  writeFileSync(join(consumer, 'hooks.mjs'), `
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const m = /node_modules\\/(better-sqlite3|@node-rs\\/argon2)\\//.exec(r.url);
  if (m) process.stderr.write('NATIVE ' + m[1] + '\\n');
  const lazy = /node_modules\\/(pino|prom-client|smtp-server|libmime)\\//.exec(r.url);
  if (lazy) process.stderr.write('EAGER ' + lazy[1] + '\\n');
  return r;
}`);
  writeFileSync(join(consumer, 'register.mjs'), `import { register } from 'node:module'; register(new URL('./hooks.mjs', import.meta.url));`);
  writeFileSync(join(consumer, 'entry.mjs'), `
const root = await import('postroom');
// Loaded on first use only (issue 18): the CommonJS ones would show in the module cache.
const { default: Module } = await import('node:module');
const eager = Object.keys(Module._cache).filter((f) => /node_modules\\/(pino|prom-client|smtp-server|libmime)\\//.test(f));
if (eager.length > 0) throw new Error('import "postroom" loaded ' + eager.join(', '));
const conformance = await import('postroom/conformance');
const testing = await import('postroom/testing');
const kit = await testing.startTestServer({ users: { a: 'b' } });
if (!kit.imapPort) throw new Error('the test kit has no IMAP port');
await kit.close({ force: true });
if (!Array.isArray(root.SYSTEM_FLAGS) || !root.SYSTEM_FLAGS.includes('\\\\Seen')) throw new Error('SYSTEM_FLAGS is not a value');
for (const name of ['createImapServer', 'createPop3Server', 'MemoryStore', 'CommandRegistry', 'StoreError', 'pinnedStream', 'SqliteStore'])
  if (typeof root[name] !== 'function') throw new Error(name + ' missing');
if (typeof conformance.runStoreConformance !== 'function') throw new Error('runStoreConformance missing');
const store = new root.MemoryStore();
const server = root.createImapServer({ store, auth: new root.StaticAuthenticator({ a: 'b' }), port: 0, tlsPort: null });
await server.listen();
await server.close();
console.log('entry points ok');
`);
  const run = spawnSync(process.execPath, ['--import', './register.mjs', 'entry.mjs'], { cwd: consumer, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /entry points ok/);
  assert.doesNotMatch(run.stderr, /NATIVE/, 'import "postroom" and an in-memory server load no native module');
  assert.doesNotMatch(run.stderr, /EAGER/, 'import "postroom", the test kit and an in-memory server load no pino, prom-client, smtp-server or libmime');

  // A tiny store from the package through the conformance suite, under node:test.
  writeFileSync(join(consumer, 'store.test.mjs'), `
import { MemoryStore } from 'postroom';
import { runStoreConformance } from 'postroom/conformance';
class TinyStore extends MemoryStore {}
runStoreConformance('TinyStore', () => new TinyStore());
`);
  // Without the outer runner's NODE_TEST_CONTEXT, which would make the child report to it instead.
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const suite = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'store.test.mjs'], { cwd: consumer, encoding: 'utf8', env });
  assert.equal(suite.status, 0, suite.stdout.slice(-3000));
  assert.match(suite.stdout, /# fail 0/);
  assert.match(suite.stdout, /# pass [1-9]\d+/);
});

/**
 * How the benches run Postroom's server processes: compiled JavaScript by default, as users run it
 * (`npm start`/`postroom serve` run tsc's output in dist/), or under tsx on request.
 *
 * tsx transforms each file at load with esbuild, which wraps every named function and class in a
 * `__name(…)` helper call and keeps the TypeScript source's shape otherwise; tsc emits plain ES2022.
 * Measured under imaptest's mix, tsx costs about 5 % of the server's CPU per command (median of 15
 * paired rounds, NOISY; bench/RESULTS.md, "tsx or compiled"), so figures compared with Dovecot
 * come from compiled code.
 *
 * The compiled tree is kept under `<checkout>/.bench-tmp/js/<hash>`, keyed by a hash of the sources
 * it is built from (src/, bench/servers/, tsconfig.json, package.json): a changed source compiles
 * again (≈ 25 s), an unchanged one is reused. Another checkout (`--postroom-base`) gets its own tree
 * under its own folder, compiled from its own sources, so its bare imports resolve in its own
 * node_modules. package.json is copied beside src/ so `new URL('../../package.json', import.meta.url)`
 * finds it as it does from dist/.
 *
 * POSTROOM_BENCH_RUNTIME=tsx runs the TypeScript sources under tsx instead (what every bench did
 * before 2026-12-05); POSTROOM_BENCH_RUNTIME=js is the default.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export type PostroomRuntime = 'js' | 'tsx';

/** The runtime POSTROOM_BENCH_RUNTIME asks for ('js' when unset). */
export function benchRuntime(): PostroomRuntime {
  const v = process.env.POSTROOM_BENCH_RUNTIME ?? 'js';
  if (v !== 'js' && v !== 'tsx') throw new Error(`POSTROOM_BENCH_RUNTIME: js or tsx, not ${v}`);
  return v;
}

/** What the compiled tree is made from, relative to the checkout. */
const SOURCE_DIRS = ['src', 'bench/servers'];
const SOURCE_FILES = ['tsconfig.json', 'package.json'];

/**
 * Node arguments that run `entry` (a .ts file of the checkout at `root`, given relative to it, e.g.
 * `src/cli/main.ts`) in `runtime`: `['--import', 'tsx', <root>/<entry>]` or `[<compiled .js>]`.
 * Put node's own flags before them and the script's arguments after.
 */
export function postroomEntry(root: string, entry: string, runtime: PostroomRuntime = benchRuntime()): string[] {
  const abs = resolve(root);
  if (runtime === 'tsx') return ['--import', 'tsx', join(abs, entry)];
  const tree = compiledTree(abs);
  const js = join(tree, entry.replace(/\.ts$/, '.js'));
  if (!existsSync(js)) throw new Error(`${entry} is not part of the compiled tree ${tree} (src/ and bench/servers/postroom-main.ts are compiled)`);
  return [js];
}

/** The compiled tree of the checkout at `root`, built now if there is none for its sources. */
export function compiledTree(root: string): string {
  const cache = join(root, '.bench-tmp', 'js');
  const tree = join(cache, sourceHash(root));
  if (existsSync(join(tree, '.complete'))) return tree;
  mkdirSync(cache, { recursive: true });
  // Built aside and renamed: two benches starting together never run half a tree.
  const tmp = `${tree}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const config = join(tmp, 'tsconfig.bench.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: root, outDir: tmp, noEmit: false, declaration: false, declarationMap: false, sourceMap: false, incremental: false },
      include: [join(root, 'src')],
      // The bench's server entry and what it imports (bench/servers/tails.ts); src/ whole for src/cli/main.ts and the rest.
      files: [join(root, 'bench/servers/postroom-main.ts')],
    }),
  );
  process.stderr.write(`compiling ${relative(process.cwd(), root) || '.'} for the bench into ${tree}…\n`);
  const tsc = existsSync(join(root, 'node_modules/typescript/bin/tsc')) ? join(root, 'node_modules/typescript/bin/tsc') : join(process.cwd(), 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', config], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  copyFileSync(join(root, 'package.json'), join(tmp, 'package.json'));
  mkdirSync(join(tmp, '.complete'));
  try {
    renameSync(tmp, tree);
  } catch {
    // Another bench finished the same tree first: use that one.
    rmSync(tmp, { recursive: true, force: true });
  }
  return tree;
}

/** A short hash of the files the compiled tree is made from. */
function sourceHash(root: string): string {
  const h = createHash('sha256');
  const files: string[] = [...SOURCE_FILES];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts')) files.push(rel);
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  for (const f of files.sort()) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

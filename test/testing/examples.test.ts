/**
 * The runner examples of docs/testing.md (examples/testing/): the node:test one runs as a user
 * would run it (its own process, importing 'postroom/testing'), the vitest, jest and mocha ones are
 * type-checked against the kit's types (with the runners' few globals declared in
 * runner-globals.d.ts, so CI needs none of the three installed), and the guide shows each file as
 * it is.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

it('the node:test example passes', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'examples/testing/node-test.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    // 'postroom/testing' resolves to the source through the examples' tsconfig paths.
    // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of stdout.
    env: { ...withoutTestContext(), TSX_TSCONFIG_PATH: 'examples/testing/tsconfig.json' },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /# pass 3/);
  assert.match(r.stdout, /# fail 0/);
});

it('the vitest, jest and mocha examples type-check against postroom/testing', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'examples/testing/tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

it('docs/testing.md shows each example file as it is', () => {
  const doc = readFileSync(new URL('../../docs/testing.md', import.meta.url), 'utf8');
  for (const name of ['node-test.test.ts', 'vitest.test.ts', 'jest.test.ts', 'mocha.test.ts']) {
    const code = readFileSync(new URL(`../../examples/testing/${name}`, import.meta.url), 'utf8');
    assert.ok(doc.includes(code.trimEnd()), `update docs/testing.md after editing examples/testing/${name}`);
  }
});

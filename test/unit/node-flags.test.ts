import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingNodeFlags, nodeFlagsFor } from '../../src/cli/node-flags.js';
import { DEFAULT_SETTINGS, settingValue } from '../../src/config/settings.js';

test('node flags: none by default; both semi-space bounds and the single-threaded GC when set', () => {
  assert.deepEqual(nodeFlagsFor(DEFAULT_SETTINGS), []);
  assert.deepEqual(nodeFlagsFor({ v8SemiSpaceMb: 32, v8SingleThreadedGc: true }), [
    '--min-semi-space-size=32',
    '--max-semi-space-size=32',
    '--single-threaded-gc',
  ]);
});

test('node flags: one node was started with (argv or NODE_OPTIONS, - or _, any value) is not asked for again', () => {
  const wanted = nodeFlagsFor({ v8SemiSpaceMb: 64, v8SingleThreadedGc: true });
  assert.deepEqual(missingNodeFlags(wanted, [], ''), wanted);
  // The two semi-space bounds are one setting: either of the operator's stands for both.
  assert.deepEqual(missingNodeFlags(wanted, ['--import', 'tsx', '--max-semi-space-size=8'], ''), ['--single-threaded-gc']);
  assert.deepEqual(missingNodeFlags(wanted, [], ' --max_semi_space_size=16  '), ['--single-threaded-gc']);
  assert.deepEqual(missingNodeFlags(wanted, [], '--single-threaded-gc'), ['--min-semi-space-size=64', '--max-semi-space-size=64']);
  assert.deepEqual(missingNodeFlags(wanted, ['--min-semi-space-size=1', '--max-semi-space-size=1', '--single-threaded-gc'], ''), []);
});

test('v8SemiSpaceMb: 0 to 256 whole MiB, from a flag string or a number', () => {
  const read = (v: unknown): unknown => settingValue('v8SemiSpaceMb', v, 'test', (p) => p);
  assert.equal(read('32'), 32);
  assert.equal(read(0), 0);
  assert.equal(read(256), 256);
  for (const bad of ['257', -1, 1.5, 'big', '', true, null]) {
    assert.throws(() => read(bad), /v8SemiSpaceMb: expected a whole number of MiB from 1 to 256, or 0/, JSON.stringify(bad));
  }
});

/**
 * v8MinorGcTask (applyGcScheduling): a process that allocates over many turns of its event loop,
 * as a server does, traced with --trace-gc — off, no scavenge runs as a task (each is an allocation
 * failure); on (node's default), most do.
 */
test('applyGcScheduling: young-generation GCs as tasks only with v8MinorGcTask', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'postroom-gc-task-'));
  try {
    const script = join(dir, 'alloc.ts');
    const flags = fileURLToPath(new URL('../../src/cli/node-flags.ts', import.meta.url));
    writeFileSync(
      script,
      `import { applyGcScheduling } from ${JSON.stringify(flags)};
applyGcScheduling({ v8MinorGcTask: process.argv[2] === 'on' });
let keep: object[] = [];
let turns = 0;
const turn = (): void => {
  for (let i = 0; i < 2000; i++) keep.push({ i, s: 'x' + i });
  if (keep.length > 20000) keep = [];
  if (++turns < 400) setImmediate(turn);
};
turn();
`,
    );
    const scavenges = (mode: string): { task: number; failure: number } => {
      const run = spawnSync(process.execPath, ['--trace-gc', '--import', 'tsx', script, mode], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.split('\n').filter((l) => l.includes('Scavenge'));
      return { task: lines.filter((l) => /\btask\b/.test(l)).length, failure: lines.filter((l) => l.includes('allocation failure')).length };
    };
    const off = scavenges('off');
    assert.ok(off.failure > 10, `scavenges ran (${off.failure})`);
    // One or two tasks asked for while the loader started, before the setting took effect.
    assert.ok(off.task <= 3, `off: ${off.task} scavenges ran as tasks`);
    const on = scavenges('on');
    assert.ok(on.task > 10, `on: ${on.task} scavenges ran as tasks (node's default)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

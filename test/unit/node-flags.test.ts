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
 * as a server does — off, no scavenge runs as a task (each is an allocation failure); on (node's
 * default), most do. Traced only from the moment the setting is applied (--trace-gc switched on
 * right after it): before, tsx's loader (and its hooks thread) ask for scavenges as tasks, a number
 * that grows with the machine's load, and a whole-process trace counted them (CI: "off: 4
 * scavenges ran as tasks" at <= 3 allowed). V8 keeps at most one scavenge task pending per isolate,
 * so one asked for just before the setting may still run after it — and no more.
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
      `import v8 from 'node:v8';
import { applyGcScheduling } from ${JSON.stringify(flags)};
applyGcScheduling({ v8MinorGcTask: process.argv[2] === 'on' });
v8.setFlagsFromString('--trace-gc');
let keep: object[] = [];
let turns = 0;
const turn = (): void => {
  for (let i = 0; i < 2000; i++) keep.push({ i, s: 'x' + i });
  if (keep.length > 20000) keep = [];
  if (++turns < 1000) setImmediate(turn);
};
turn();
`,
    );
    /** Scavenges traced, per isolate ("[pid:0xaddress]" opens each line): as tasks, and in all. */
    const scavenges = (mode: string): { task: number; all: number; tasksPerIsolate: Map<string, number> } => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script, mode], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.split('\n').filter((l) => l.includes('Scavenge'));
      const tasks = lines.filter((l) => /\btask\b/.test(l));
      const tasksPerIsolate = new Map<string, number>();
      for (const l of tasks) {
        const isolate = l.slice(0, l.indexOf(']') + 1);
        tasksPerIsolate.set(isolate, (tasksPerIsolate.get(isolate) ?? 0) + 1);
      }
      return { task: tasks.length, all: lines.length, tasksPerIsolate };
    };
    const off = scavenges('off');
    assert.ok(off.all > 10, `scavenges ran (${off.all})`);
    for (const [isolate, n] of off.tasksPerIsolate) {
      assert.ok(n <= 1, `off: ${n} scavenges of ${isolate} ran as tasks after the setting (${off.task} of ${off.all} in all)`);
    }
    const on = scavenges('on');
    assert.ok(on.task > 10 && on.task * 2 > on.all, `on: ${on.task} of ${on.all} scavenges ran as tasks (node's default: most)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

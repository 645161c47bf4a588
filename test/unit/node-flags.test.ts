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

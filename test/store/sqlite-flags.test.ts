import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeFlags } from '../../src/store/sqlite/flags.js';

// normalizeFlags has a path of its own for none or one flag (no set of names seen): both paths
// must give what the general one gives — canonical system flags, \Recent and empty names dropped.
describe('normalizeFlags', () => {
  const cases: Array<[string[], string[]]> = [
    [[], []],
    [['$Bench'], ['$Bench']],
    [['\\seen'], ['\\Seen']],
    [['\\FLAGGED'], ['\\Flagged']],
    [['\\Recent'], []],
    [['\\recent'], []],
    [[''], []],
    [['\\seen', '\\Seen', '$a', '$A', '\\Recent', ''], ['\\Seen', '$a']],
    [['$Bench', '\\Recent'], ['$Bench']],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      const frozen = Object.freeze([...input]);
      const out = normalizeFlags(frozen);
      assert.deepEqual(out, expected);
      out.push('$x'); // a fresh array the caller may keep or change, never its input
      assert.deepEqual(frozen, input);
    });
  }
});

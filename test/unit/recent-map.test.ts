import { it } from 'node:test';
import assert from 'node:assert/strict';
import { takeRecent, trimOldest } from '../../src/util/recent-map.js';

it('takeRecent moves a hit to the end, so trimOldest drops the least recently used first', () => {
  const map = new Map([
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ]);
  assert.equal(takeRecent(map, 1), 'a');
  assert.deepEqual([...map.keys()], [2, 3, 1]);
  assert.equal(takeRecent(map, 9), undefined);
  assert.deepEqual([...map.keys()], [2, 3, 1], 'a miss moves nothing');
  trimOldest(map, 2);
  assert.deepEqual([...map.keys()], [3, 1]);
  trimOldest(map, 5);
  assert.equal(map.size, 2);
});

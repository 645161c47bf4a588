import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressProblem, candidateUsers } from '../../src/delivery/recipient.js';

test('candidate user names for each rule, most specific first, lower-cased after the given case', () => {
  const table: Array<[string, 'auto' | 'localpart' | 'address', string, Array<{ user: string; detail?: string }>]> = [
    ['ann@example.org', 'auto', '+', [{ user: 'ann@example.org' }, { user: 'ann' }]],
    ['ann@example.org', 'localpart', '+', [{ user: 'ann' }]],
    ['ann@example.org', 'address', '+', [{ user: 'ann@example.org' }]],
    ['Ann@Example.ORG', 'localpart', '+', [{ user: 'Ann' }, { user: 'ann' }]],
    [
      'ann+lists@example.org',
      'auto',
      '+',
      [{ user: 'ann+lists@example.org' }, { user: 'ann+lists' }, { user: 'ann@example.org', detail: 'lists' }, { user: 'ann', detail: 'lists' }],
    ],
    ['ann+lists@example.org', 'localpart', '', [{ user: 'ann+lists' }]],
    ['ann-lists@example.org', 'localpart', '-', [{ user: 'ann-lists' }, { user: 'ann', detail: 'lists' }]],
    // An empty detail is no detail; a delimiter at the start splits nothing.
    ['ann+@example.org', 'localpart', '+', [{ user: 'ann+' }, { user: 'ann' }]],
    ['+x@example.org', 'localpart', '+', [{ user: '+x' }]],
    ['postmaster', 'auto', '+', [{ user: 'postmaster' }]],
    // Names a users file cannot hold are never candidates.
    ['a b@example.org', 'localpart', '+', []],
    ['../x@example.org', 'localpart', '+', []],
  ];
  for (const [address, rule, delimiter, expected] of table) {
    assert.deepEqual(candidateUsers(address, rule, delimiter), expected, `${address} ${rule} "${delimiter}"`);
  }
});

test('addresses that cannot name anyone', () => {
  assert.equal(addressProblem('caf\uFFFD@example.org'), 'Address is not valid UTF-8');
  assert.equal(addressProblem(''), 'Empty address');
  assert.equal(addressProblem('café@example.org'), null);
});

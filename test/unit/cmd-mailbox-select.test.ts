/** LIST/LSUB name selection and attributes (src/imap/list/select.ts), RFC examples as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, anyPattern } from '../../src/imap/list/pattern.js';
import { selectListEntries, compareNames, type ListSelection } from '../../src/imap/list/select.js';
import type { MailboxInfo, SpecialUse } from '../../src/store/types.js';

function mb(name: string, extra: Partial<MailboxInfo> = {}): MailboxInfo {
  return { id: `id-${name}`, name, noselect: false, subscribed: false, ...extra };
}

function run(
  mailboxes: MailboxInfo[],
  patterns: string[],
  selection: ListSelection = { mode: 'list' },
  subscriptions: string[] = [],
  reference = '',
  delimiter = '/',
): string[] {
  const matches = anyPattern(patterns.map((p) => compilePattern(reference, p, delimiter)));
  return selectListEntries({ mailboxes, subscriptions, delimiter, matches, selection }).map(
    (e) => `(${e.attributes.join(' ')}) ${e.name}${e.childInfo ? ` CHILDINFO(${e.childInfo.join(' ')})` : ''}`,
  );
}

test('RFC 3501 §6.3.4 (\'/\' example): a \\Noselect record is listed by *', () => {
  const tree = [mb('blurdybloop'), mb('foo', { noselect: true }), mb('foo/bar')];
  assert.deepEqual(run(tree, ['*']), [
    '(\\HasNoChildren) blurdybloop',
    '(\\Noselect \\HasChildren) foo',
    '(\\HasNoChildren) foo/bar',
  ]);
});

test('RFC 3501 §6.3.4 (\'.\' example): a missing parent shows up for % but not for *', () => {
  const tree = [mb('foo.bar')];
  assert.deepEqual(run(tree, ['*'], { mode: 'list' }, [], '', '.'), ['(\\HasNoChildren) foo.bar']);
  assert.deepEqual(run(tree, ['%'], { mode: 'list' }, [], '', '.'), ['(\\Noselect \\HasChildren) foo']);
});

test('RFC 3501 §6.3.8: reference + % lists one level below it', () => {
  const tree = [mb('INBOX'), mb('~/Mail/foo/x'), mb('~/Mail/meetings')];
  assert.deepEqual(run(tree, ['%'], { mode: 'list' }, [], '~/Mail/'), [
    '(\\Noselect \\HasChildren) ~/Mail/foo',
    '(\\HasNoChildren) ~/Mail/meetings',
  ]);
});

test('INBOX first, tree order, INBOX found case-insensitively', () => {
  const tree = [mb('b'), mb('INBOX'), mb('a/x'), mb('a'), mb('INBOX/child'), mb('a2')];
  assert.deepEqual(run(tree, ['*']), [
    '(\\HasChildren) INBOX',
    '(\\HasNoChildren) INBOX/child',
    '(\\HasChildren) a',
    '(\\HasNoChildren) a/x',
    '(\\HasNoChildren) a2',
    '(\\HasNoChildren) b',
  ]);
  assert.deepEqual(run(tree, ['inbox']), ['(\\HasChildren) INBOX']);
});

test('special-use and \\Noinferiors attributes (RFC 6154 §5.1, RFC 5258 §3.4)', () => {
  const tree = [mb('INBOX', { noinferiors: true }), mb('Sent', { specialUse: '\\Sent' as SpecialUse }), mb('Trash', { specialUse: '\\Trash' })];
  assert.deepEqual(run(tree, ['%']), ['(\\Noinferiors) INBOX', '(\\HasNoChildren \\Sent) Sent', '(\\HasNoChildren \\Trash) Trash']);
  assert.deepEqual(run(tree, ['*'], { mode: 'extended', specialUse: true }), ['(\\HasNoChildren \\Sent) Sent', '(\\HasNoChildren \\Trash) Trash']);
});

test('RFC 3501 §6.3.9 LSUB: * lists subscribed names, % shows a non-subscribed parent as \\Noselect', () => {
  const tree = [mb('news'), mb('news/comp'), mb('news/comp/mail'), mb('news/comp/mail/mime'), mb('news/comp/mail/misc')];
  const subs = ['news/comp/mail/mime', 'news/comp/mail/misc'];
  assert.deepEqual(run(tree, ['comp/mail/*'], { mode: 'lsub' }, subs, 'news/'), [
    '() news/comp/mail/mime',
    '() news/comp/mail/misc',
  ]);
  assert.deepEqual(run(tree, ['comp/%'], { mode: 'lsub' }, subs, 'news/'), ['(\\Noselect) news/comp/mail']);
});

test('LSUB: a subscribed name that does not exist is \\Noselect; unsubscribed mailboxes are not listed', () => {
  const tree = [mb('INBOX'), mb('a')];
  assert.deepEqual(run(tree, ['*'], { mode: 'lsub' }, ['gone', 'INBOX']), ['() INBOX', '(\\Noselect) gone']);
});

// RFC 5258 §5 example 1 hierarchy (with INBOX simplified).
const fruit = [
  mb('INBOX'),
  mb('Fruit'),
  mb('Fruit/Apple'),
  mb('Fruit/Banana'),
  mb('Tofu'),
  mb('Vegetable'),
  mb('Vegetable/Broccoli'),
  mb('Vegetable/Corn'),
];
const fruitSubs = ['INBOX', 'Fruit/Banana', 'Fruit/Peach', 'Vegetable', 'Vegetable/Broccoli'];

test('RFC 5258 example 2: LIST (SUBSCRIBED) "" "*"', () => {
  assert.deepEqual(run(fruit, ['*'], { mode: 'extended', subscribed: true }, fruitSubs), [
    '(\\HasNoChildren \\Subscribed) INBOX',
    '(\\HasNoChildren \\Subscribed) Fruit/Banana',
    '(\\NonExistent \\HasNoChildren \\Subscribed) Fruit/Peach',
    '(\\HasChildren \\Subscribed) Vegetable',
    '(\\HasNoChildren \\Subscribed) Vegetable/Broccoli',
  ]);
});

test('RFC 5258 example 6: RETURN (SUBSCRIBED) does not add names', () => {
  assert.deepEqual(run(fruit, ['*'], { mode: 'extended', returnSubscribed: true }, fruitSubs), [
    '(\\HasNoChildren \\Subscribed) INBOX',
    '(\\HasChildren) Fruit',
    '(\\HasNoChildren) Fruit/Apple',
    '(\\HasNoChildren \\Subscribed) Fruit/Banana',
    '(\\HasNoChildren) Tofu',
    '(\\HasChildren \\Subscribed) Vegetable',
    '(\\HasNoChildren \\Subscribed) Vegetable/Broccoli',
    '(\\HasNoChildren) Vegetable/Corn',
  ]);
});

test('RFC 5258 example 8: SUBSCRIBED RECURSIVEMATCH reports CHILDINFO', () => {
  const tree = [mb('INBOX'), mb('Foo'), mb('Foo/Bar'), mb('Foo/Baz'), mb('Moo')];
  assert.deepEqual(run(tree, ['*'], { mode: 'extended', subscribed: true }, ['Foo/Baz']), ['(\\HasNoChildren \\Subscribed) Foo/Baz']);
  assert.deepEqual(run(tree, ['%'], { mode: 'extended', subscribed: true }, ['Foo/Baz']), []);
  assert.deepEqual(run(tree, ['%'], { mode: 'extended', subscribed: true, recursiveMatch: true }, ['Foo/Baz']), [
    '(\\HasChildren) Foo CHILDINFO(SUBSCRIBED)',
  ]);
  // A2: Foo does not exist at all.
  const noFoo = tree.filter((m) => m.name !== 'Foo');
  assert.deepEqual(run(noFoo, ['%'], { mode: 'extended', subscribed: true, recursiveMatch: true }, ['Foo/Baz']), [
    '(\\NonExistent \\HasChildren) Foo CHILDINFO(SUBSCRIBED)',
  ]);
  // B: nothing subscribed, nothing returned.
  assert.deepEqual(run(tree, ['%'], { mode: 'extended', subscribed: true, recursiveMatch: true }, []), []);
  // C: Foo and Moo subscribed, no CHILDINFO because no subscribed child.
  assert.deepEqual(run(tree, ['%'], { mode: 'extended', subscribed: true, recursiveMatch: true }, ['Foo', 'Moo']), [
    '(\\HasChildren \\Subscribed) Foo',
    '(\\HasNoChildren \\Subscribed) Moo',
  ]);
});

test('RFC 5258 example 9: CHILDINFO only where a subscribed child is not itself returned', () => {
  const tree = [
    mb('foo2'), mb('foo2/bar1'), mb('foo2/bar2'),
    mb('baz2'), mb('baz2/bar2'), mb('baz2/bar22'), mb('baz2/bar222'),
    mb('eps2'), mb('eps2/mamba'), mb('qux2/bar2'),
  ];
  const subs = ['foo2/bar1', 'foo2/bar2', 'baz2/bar2', 'baz2/bar22', 'baz2/bar222', 'eps2', 'eps2/mamba', 'qux2/bar2'];
  assert.deepEqual(run(tree, ['*2'], { mode: 'extended', subscribed: true, recursiveMatch: true }, subs), [
    '(\\HasNoChildren \\Subscribed) baz2/bar2',
    '(\\HasNoChildren \\Subscribed) baz2/bar22',
    '(\\HasNoChildren \\Subscribed) baz2/bar222',
    '(\\HasChildren \\Subscribed) eps2 CHILDINFO(SUBSCRIBED)',
    '(\\HasChildren) foo2 CHILDINFO(SUBSCRIBED)',
    '(\\HasNoChildren \\Subscribed) foo2/bar2',
    '(\\HasNoChildren \\Subscribed) qux2/bar2',
  ]);
});

test('RFC 5258 example 10: CHILDINFO does not imply \\HasChildren', () => {
  const tree = [mb('foo')];
  assert.deepEqual(run(tree, ['foo', 'foo/*']), ['(\\HasNoChildren) foo']);
  assert.deepEqual(run(tree, ['foo/*'], { mode: 'extended', subscribed: true }, ['foo/bar']), ['(\\NonExistent \\HasNoChildren \\Subscribed) foo/bar']);
  assert.deepEqual(run(tree, ['foo'], { mode: 'extended', subscribed: true, recursiveMatch: true }, ['foo/bar']), [
    '(\\HasNoChildren) foo CHILDINFO(SUBSCRIBED)',
  ]);
});

test('RFC 5258 example 11: a missing parent without RECURSIVEMATCH is \\NonExistent \\HasChildren', () => {
  const tree = [mb('music/rock')];
  assert.deepEqual(run(tree, ['%'], { mode: 'extended' }), ['(\\NonExistent \\HasChildren) music']);
  // a3.1: music/rock is itself returned, so music is not needed.
  assert.deepEqual(run(tree, ['%', 'music/rock'], { mode: 'extended' }), ['(\\HasNoChildren) music/rock']);
});

test('statusable: selectable mailboxes that meet the criteria only', () => {
  const tree = [mb('INBOX'), mb('foo', { noselect: true }), mb('foo/bar'), mb('x/y')];
  const entries = selectListEntries({
    mailboxes: tree,
    subscriptions: [],
    delimiter: '/',
    matches: compilePattern('', '%', '/').matches,
    selection: { mode: 'extended' },
  });
  assert.deepEqual(entries.map((e) => [e.name, e.statusable, e.mailbox?.id]), [
    ['INBOX', true, 'id-INBOX'],
    ['foo', false, 'id-foo'],
    ['x', false, undefined],
  ]);
});

test('compareNames keeps parents before children', () => {
  const names = ['b', 'a/b', 'a', 'a b', 'INBOX/x', 'INBOX', 'a/a'];
  assert.deepEqual([...names].sort((x, y) => compareNames(x, y, '/')), ['INBOX', 'INBOX/x', 'a', 'a/a', 'a/b', 'a b', 'b']);
});

test('a large tree (10,000 leaves) is listed whole with * and by its top level with %', () => {
  const tree: MailboxInfo[] = [];
  for (let i = 0; i < 100; i++) for (let j = 0; j < 100; j++) tree.push(mb(`top${i}/sub${j}/leaf`));
  const all = run(tree, ['*']);
  const top = run(tree, ['%']);
  // "*" reaches every leaf, so the missing parents above them are not listed (RFC 3501 §6.3.4).
  assert.equal(all.length, 100 * 100);
  assert.equal(top.length, 100);
  assert.equal(top[0], '(\\Noselect \\HasChildren) top0');
});

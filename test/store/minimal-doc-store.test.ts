// The minimal store from docs/store.md (examples/minimal-store.ts): its read side works, its write
// side refuses cleanly, and the doc really contains the example verbatim.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ArrayStore } from '../../examples/minimal-store.js';
import { StoreError } from '../../src/store/errors.js';
import { runStoreConformance, storeConformanceCases, type TestRunner } from '../../src/store/conformance/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';

const raw = (subject: string, body: string) => Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
const one = raw('First', 'apples and pears');
const two = raw('Second', 'plums');

function store() {
  return new ArrayStore({ alice: [{ raw: one, flags: ['\\Seen'] }, { raw: two }], bob: [{ raw: raw('Bob', 'private') }] });
}

describe('examples/minimal-store.ts', () => {
  it('lists INBOX and resolves it in any case', async () => {
    const a = await store().open('alice');
    assert.deepEqual((await a.list()).map((m) => m.name), ['INBOX']);
    assert.equal((await a.get('inbox')).id, 'inbox');
    await assert.rejects(a.get('Other'), (e: unknown) => e instanceof StoreError && e.kind === 'nonexistent');
  });

  it('snapshot and status describe the fixed messages', async () => {
    const a = await store().open('alice');
    const snap = await a.snapshot('inbox');
    assert.deepEqual(snap.messages.map((m) => m.uid), [1, 2]);
    assert.deepEqual(snap.messages[0]!.flags, ['\\Seen']);
    const status = await a.status('inbox');
    assert.equal(status.messages, 2);
    assert.equal(status.unseen, 1);
    assert.equal(status.size, one.length + two.length);
    assert.equal(status.uidNext, 3);
  });

  it('reads whole messages, ranges and streams; parses structure; searches', async () => {
    const a = await store().open('alice');
    assert.deepEqual(await a.read('inbox', 2), two);
    assert.deepEqual(await a.read('inbox', 1, { start: 0, end: 5 }), one.subarray(0, 5));
    const parts: Buffer[] = [];
    for await (const p of a.stream('inbox', 1)) parts.push(p);
    assert.deepEqual(Buffer.concat(parts), one);
    assert.equal((await a.structure('inbox', 1)).size, one.length);
    assert.deepEqual(await a.search('inbox', { type: 'body', value: 'PEARS' }), [1]);
    assert.deepEqual(await a.search('inbox', { type: 'flag', flag: '\\Seen', set: false }), [2]);
    assert.deepEqual((await a.records('inbox', [2, 9, 1])).map((r) => r.uid), [1, 2]);
  });

  it('refuses writes with noperm and keeps users apart', async () => {
    const s = store();
    const a = await s.open('alice');
    await assert.rejects(a.create('x'), (e: unknown) => e instanceof StoreError && e.kind === 'noperm');
    await assert.rejects(a.append('inbox', { content: one }), (e: unknown) => e instanceof StoreError && e.kind === 'noperm');
    const b = await s.open('bob');
    assert.equal((await b.snapshot('inbox')).messages.length, 1);
    assert.ok((await b.read('inbox', 1)).toString().includes('private'));
    await assert.rejects(b.read('inbox', 2), (e: unknown) => e instanceof StoreError && e.kind === 'nonexistent');
  });

  it('docs/store.md contains the example verbatim', () => {
    const code = readFileSync(new URL('../../examples/minimal-store.ts', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../docs/store.md', import.meta.url), 'utf8');
    assert.ok(doc.includes(code.trimEnd()), 'update docs/store.md after editing examples/minimal-store.ts');
  });
});

// The example, run through the suite as the doc says: read-only profile, seeded with its messages,
// working as users it does not hold (the cases that need writes are reported skipped).
runStoreConformance('ArrayStore (read-only, seeded)', () => store(), {
  profile: 'read-only',
  users: ['carol', 'dave'],
  seeded: { user: 'alice', messages: [one, two] },
});

describe('the conformance suite outside node:test', () => {
  it('storeConformanceCases: plain cases that run and throw without any test runner', async () => {
    const cases = storeConformanceCases(() => new MemoryStore(), { seeded: undefined });
    assert.ok(cases.length > 60, `${cases.length} cases`);
    assert.ok(cases.every((c) => !c.skip && c.path.length >= 1 && typeof c.run === 'function'));
    for (const c of cases.filter((c) => c.path[0] === 'mailbox tree')) await c.run();
    // A store that breaks a rule makes a case throw.
    const broken = storeConformanceCases(() => {
      const m = new MemoryStore();
      const open = m.open.bind(m);
      m.open = async (user, o) => Object.assign(await open(user, o), { subscriptions: async () => [] });
      return m;
    });
    const inbox = broken.find((c) => c.title.startsWith('open creates INBOX'))!;
    await assert.rejects(inbox.run(), /a new user starts with INBOX subscribed/);
  });

  it('runStoreConformance registers with an injected describe/it (vitest, jest, mocha) and skips what does not apply', async () => {
    const seen: string[] = [];
    const bodies: Array<() => Promise<void>> = [];
    const runner: TestRunner = {
      describe: (title, fn) => {
        seen.push(`describe ${title}`);
        fn();
      },
      it: (title, fn) => {
        seen.push(`it ${title}`);
        bodies.push(fn);
      },
      skip: (title) => seen.push(`skip ${title}`),
    };
    runStoreConformance('ArrayStore', () => store(), { runner, profile: 'read-only', users: ['carol', 'dave'], seeded: { user: 'alice', messages: [one, two] } });
    assert.equal(seen[0], 'describe store conformance: ArrayStore');
    assert.ok(seen.includes('describe seeded messages'));
    assert.ok(seen.filter((s) => s.startsWith('skip ')).length > 40, 'write cases are skipped for a read-only store');
    assert.equal(bodies.length, 3 + 4, 'three read-only cases and four seeded ones run');
    for (const body of bodies) await body();
  });

  it('StoreError is recognised by brand, name and kind, not only by class identity', () => {
    const foreign = Object.assign(new Error('gone'), { name: 'StoreError', kind: 'nonexistent' });
    assert.ok(foreign instanceof StoreError, 'an error from another copy of the package');
    assert.ok(!(Object.assign(new Error('x'), { name: 'StoreError', kind: 'bogus' }) instanceof StoreError));
    assert.ok(!(new Error('plain') instanceof StoreError));
    assert.ok(new StoreError('noperm', 'no') instanceof StoreError);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import type { Authenticator } from '../../src/auth/types.js';
import { DeliveryPipeline, type DeliveryOptions } from '../../src/delivery/pipeline.js';
import { MessageSpool } from '../../src/delivery/spool.js';
import { MessageWithdrawn } from '../../src/delivery/channel.js';
import type { DeliveryAction, FilterInput } from '../../src/delivery/types.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';
import { storedMessages } from '../helpers/lmtp-server.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('postroom-pipeline-');
const auth = new StaticAuthenticator({ ann: 'x', bob: 'x', carol: 'x' });

async function spoolOf(text: string | Buffer, memoryMax = 1 << 20): Promise<MessageSpool> {
  const spool = new MessageSpool({ memoryMax, maxSize: 1 << 26, directory: newDir() });
  await spool.write(Buffer.isBuffer(text) ? text : Buffer.from(text));
  return spool;
}

async function deliver(store: MailStore, addresses: string[], text: string | Buffer, options: DeliveryOptions & { auth?: Authenticator; memoryMax?: number } = {}) {
  const pipeline = new DeliveryPipeline({ store, auth, ...options });
  const recipients = await Promise.all(addresses.map((a) => pipeline.resolve(a)));
  const spool = await spoolOf(text, options.memoryMax);
  try {
    return await pipeline.deliver('from@example.org', recipients, spool);
  } finally {
    await spool.release();
  }
}

test('the filter step: fileinto with flags, a missing mailbox falls back to INBOX or is created, discard, reject', async () => {
  const store = new MemoryStore();
  await (await store.open('ann')).create('Work');
  const seen: FilterInput[] = [];
  const plans: Record<string, DeliveryAction[]> = {
    'ann@example.org': [{ kind: 'fileinto', mailbox: 'Work', flags: ['\\Seen', '$Label1'] }, { kind: 'fileinto', mailbox: 'Missing' }],
    'bob@example.org': [{ kind: 'fileinto', mailbox: 'New/Sub', create: true }, { kind: 'keep', flags: ['\\Flagged'] }],
    'carol@example.org': [{ kind: 'discard' }],
  };
  const outcomes = await deliver(store, Object.keys(plans), 'Subject: s\r\nX: y\r\n\r\nbody\r\n', {
    filter: (input) => {
      seen.push(input);
      return plans[input.recipient.address]!;
    },
  });
  assert.deepEqual(
    outcomes.map((o) => (o.ok ? o.stored.map((s) => s.mailbox) : o.failure.kind)),
    [['Work', 'INBOX'], ['New/Sub', 'INBOX'], []],
  );
  assert.equal(seen[0]!.header.toString(), 'Subject: s\r\nX: y\r\n');
  assert.equal(seen[0]!.mailbox, 'INBOX');
  assert.equal(seen[0]!.size, 'Subject: s\r\nX: y\r\n\r\nbody\r\n'.length);
  const ann = await store.open('ann');
  const work = await ann.get('Work');
  assert.deepEqual((await ann.snapshot(work.id)).messages[0]!.flags.sort(), ['$Label1', '\\Seen']);
  assert.equal((await storedMessages(store, 'carol')).length, 0, 'discard stores nothing');

  const rejected = await deliver(store, ['ann@example.org', 'bob@example.org'], 'Subject: no\r\n\r\n', {
    filter: (input) => [{ kind: 'keep' }, { kind: 'reject', reason: `not for ${input.recipient.user}`, temporary: input.recipient.user === 'bob' }],
  });
  assert.deepEqual(
    rejected.map((o) => (o.ok ? 'ok' : `${o.failure.kind}: ${o.failure.message}`)),
    ['rejected: not for ann', 'deferred: not for bob'],
  );
  assert.equal((await storedMessages(store, 'ann')).length, 1, 'a reject stores nothing, even with keep');
});

test('Delivered-To: only with a single recipient by default; "always" and "never"', async () => {
  const headers = async (mode: DeliveryOptions['deliveredTo'], addresses: string[]): Promise<string[]> => {
    const store = new MemoryStore();
    await deliver(store, addresses, 'S: 1\r\n\r\n', { deliveredTo: mode });
    const out: string[] = [];
    for (const a of addresses) for (const m of await storedMessages(store, a.split('@')[0]!)) out.push(m.toString().split('S: 1')[0]!);
    return out;
  };
  assert.deepEqual(await headers('single', ['ann@x.org']), ['Return-Path: <from@example.org>\r\nDelivered-To: ann@x.org\r\n']);
  assert.deepEqual(await headers('single', ['ann@x.org', 'bob@x.org']), ['Return-Path: <from@example.org>\r\n', 'Return-Path: <from@example.org>\r\n']);
  assert.deepEqual(await headers('always', ['ann@x.org', 'bob@x.org']), [
    'Return-Path: <from@example.org>\r\nDelivered-To: ann@x.org\r\n',
    'Return-Path: <from@example.org>\r\nDelivered-To: bob@x.org\r\n',
  ]);
  assert.deepEqual(await headers('never', ['ann@x.org']), ['Return-Path: <from@example.org>\r\n']);
});

test('SQLite: one message for three recipients is stored once, small (inline) and large (a blob file)', async () => {
  for (const [label, size, memoryMax] of [['small', 2_000, 1 << 20], ['large', 600_000, 64 * 1024]] as const) {
    const directory = newDir();
    const store = await SqliteStore.open({ directory });
    try {
      const body = Buffer.from(`Subject: ${label}\r\n\r\n${'0123456789abcdef'.repeat(size / 16)}\r\n`);
      const outcomes = await deliver(store, ['ann@x.org', 'bob@x.org', 'carol@x.org'], body, { memoryMax });
      assert.ok(outcomes.every((o) => o.ok));
      const digests = new Set<string>();
      for (const user of ['ann', 'bob', 'carol']) {
        const mail = await store.open(user);
        for (const hex of (await store.contentDigests(user, (await mail.get('INBOX')).id)).keys()) digests.add(hex);
        const [stored] = await storedMessages(store, user);
        assert.deepEqual(stored, Buffer.concat([Buffer.from('Return-Path: <from@example.org>\r\n'), body]));
      }
      assert.equal(digests.size, 1, `${label}: every recipient's copy is the same stored content`);
      const blobs = readdirSync(join(directory, 'blobs'), { recursive: true }).map(String).filter((n) => /[0-9a-f]{64}$/.test(n));
      assert.equal(blobs.length, label === 'large' ? 1 : 0, `${label}: blob files`);
    } finally {
      await store.close();
    }
  }
});

test('recipients: an authenticator without lookupUser accepts the first candidate; a lookup that throws is a temporary failure', async () => {
  const store = new MemoryStore();
  const blind: Authenticator = { authenticate: async () => null };
  const pipeline = new DeliveryPipeline({ store, auth: blind, recipientUserName: 'localpart' });
  assert.deepEqual(await pipeline.resolve('Zed+x@example.org'), { address: 'Zed+x@example.org', user: 'Zed+x' });
  const failing = new DeliveryPipeline({ store, auth: { authenticate: async () => null, lookupUser: async () => Promise.reject(new Error('ldap down')) } });
  await assert.rejects(failing.resolve('ann@example.org'), /ldap down/);
  const known = new DeliveryPipeline({ store, auth });
  await assert.rejects(known.resolve('nobody@example.org'), { name: 'DeliveryError', kind: 'nouser' });
  assert.deepEqual(await known.resolve('x@example.org', { user: 'bob', mailbox: 'Stuff' }), { address: 'x@example.org', user: 'bob', mailbox: 'Stuff' });
});

test('NUL bytes and an oversized message are refused for every recipient, and nothing is stored', async () => {
  const store = new MemoryStore();
  const pipeline = new DeliveryPipeline({ store, auth });
  const recipients = [await pipeline.resolve('ann@x.org'), await pipeline.resolve('bob@x.org')];
  const nul = await spoolOf('Subject: x\r\n\r\na\0b\r\n');
  assert.deepEqual(
    (await pipeline.deliver('', recipients, nul)).map((o) => !o.ok && o.failure.kind),
    ['badcontent', 'badcontent'],
  );
  const big = new MessageSpool({ memoryMax: 100, maxSize: 10, directory: newDir() });
  await big.write(Buffer.alloc(20, 0x61));
  assert.deepEqual(
    (await pipeline.deliver('', recipients, big)).map((o) => !o.ok && o.failure.kind),
    ['toobig', 'toobig'],
  );
  assert.equal((await storedMessages(store, 'ann')).length + (await storedMessages(store, 'bob')).length, 0);
});

test('SQLite: an append that names stored bytes by digest adds a reference without reading them; an unknown digest is read as usual', async () => {
  const store = await SqliteStore.open({ directory: newDir() });
  try {
    const mail = await store.open('ann');
    const inbox = await mail.get('INBOX');
    const body = Buffer.from(`Subject: known\r\n\r\n${'y'.repeat(300_000)}\r\n`);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(body).digest();
    await mail.append(inbox.id, { content: body });
    const unreadable: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]() {
        throw new Error('the content was read although the store holds it');
      },
    };
    const again = await mail.append(inbox.id, { content: unreadable, sha256, flags: ['\\Seen'] });
    assert.deepEqual(await mail.read(inbox.id, again.uid), body);
    assert.equal((await mail.records(inbox.id, [again.uid]))[0]!.size, body.length);
    const other = Buffer.from('Subject: new\r\n\r\n');
    const fresh = await mail.append(inbox.id, { content: other, sha256: createHash('sha256').update('something else').digest() });
    assert.deepEqual(await mail.read(inbox.id, fresh.uid), other);
  } finally {
    await store.close();
  }
});

/** `text` in pieces of `size` bytes (the header section's end falls inside one), optionally failing after `failAfter` pieces. */
async function* pieces(text: string, size: number, failAfter?: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0, n = 0; i < bytes.length; i += size, n++) {
    if (n === failAfter) throw new MessageWithdrawn('the client went away during DATA');
    yield bytes.subarray(i, i + size);
  }
}

for (const [name, open] of [
  ['memory', async () => new MemoryStore()],
  ['SQLite', () => SqliteStore.open({ directory: newDir() })],
] as const) {
  test(`${name}: a header-only filter runs on the header while the message arrives; keep + fileinto store the same bytes, each with its flags`, async () => {
    const store: MailStore = await open();
    try {
      const seen: FilterInput[] = [];
      const effects: string[] = [];
      const pipeline = new DeliveryPipeline({
        store,
        auth,
        filter: Object.assign(
          (input: FilterInput): DeliveryAction[] => {
            seen.push(input);
            input.defer?.(async () => void effects.push('after store'));
            if (input.header.includes('Subject: no')) return [{ kind: 'reject', reason: 'no thanks' }];
            return [{ kind: 'keep', flags: ['\\Flagged'] }, { kind: 'fileinto', mailbox: 'Copies', create: true, flags: ['$Copy'] }];
          },
          { appliesTo: async () => true, needsMessage: async () => false },
        ),
      });
      const [ann] = [await pipeline.resolve('ann@example.org')];
      const text = `Subject: yes\r\nX-Long: ${'h'.repeat(3000)}\r\n\r\n${'body line\r\n'.repeat(30_000)}`;
      const live = await pipeline.startLive('from@example.org', [ann!]);
      assert.ok(live, 'a filter that needs only the header: streamed');
      const outcome = await live.store(pieces(text, 1000), () => Buffer.byteLength(text));
      assert.deepEqual(outcome.ok ? outcome.stored.map((s) => s.mailbox) : outcome, ['INBOX', 'Copies']);
      assert.equal(seen[0]!.header.toString(), text.slice(0, text.indexOf('\r\n\r\n') + 2));
      assert.equal(seen[0]!.headerComplete, true);
      assert.equal(seen[0]!.size, undefined);
      assert.deepEqual(effects, ['after store']);
      const want = Buffer.from(`Return-Path: <from@example.org>\r\nDelivered-To: ann@example.org\r\n${text}`);
      const [inbox] = await storedMessages(store, 'ann');
      const [copy] = await storedMessages(store, 'ann', 'Copies');
      assert.ok(inbox?.equals(want) && copy?.equals(want), 'both copies byte for byte');
      const mail = await store.open('ann');
      const flags = async (box: string) => [...(await mail.snapshot((await mail.get(box)).id)).messages[0]!.flags];
      assert.deepEqual([await flags('INBOX'), await flags('Copies')], [['\\Flagged'], ['$Copy']]);
      await mail.close();

      // Withdrawn mid-way (after the header): nothing stored anywhere, the deferred effect dropped.
      const cut = await pipeline.startLive('from@example.org', [ann!]);
      const gone = await cut!.store(pieces(text, 1000, 50), () => 0);
      assert.equal(gone.ok ? 'ok' : gone.failure.kind, 'tempfail');
      // A reject: nothing stored, the rest of the message not needed.
      const no = await pipeline.startLive('from@example.org', [ann!]);
      const refused = await no!.store(pieces(`Subject: no\r\n\r\n${'x\r\n'.repeat(10_000)}`, 1000), () => 0);
      assert.equal(refused.ok ? 'ok' : `${refused.failure.kind} ${refused.failure.message}`, 'rejected no thanks');
      assert.equal((await storedMessages(store, 'ann')).length, 1);
      assert.equal((await storedMessages(store, 'ann', 'Copies')).length, 1);
      assert.deepEqual(effects, ['after store']);
    } finally {
      await store.close();
    }
  });
}

// Deliveries for one user that run at once may each find a `fileinto :create` mailbox missing and
// each create it: the one that loses the race must use the mailbox the other made, not fail with
// "already exists" (LMTP 451, seen in bench:lmtp at 10 sessions with a script).
for (const [name, open] of [
  ['memory', async () => new MemoryStore()],
  ['SQLite', () => SqliteStore.open({ directory: newDir() })],
] as const) {
  test(`${name}: concurrent deliveries that fileinto :create the same new mailbox all store, once each, into it`, async () => {
    const store: MailStore = await open();
    try {
      const filter = Object.assign((): DeliveryAction[] => [{ kind: 'fileinto', mailbox: 'Lists/new', create: true, flags: ['$L'] }], {
        appliesTo: async () => true,
        needsMessage: async () => false,
      });
      const pipeline = new DeliveryPipeline({ store, auth, filter });
      const ann = await pipeline.resolve('ann@example.org');
      const spooled = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const spool = await spoolOf(`Subject: ${i}\r\n\r\nbody ${i}\r\n`);
          try {
            return (await pipeline.deliver('from@example.org', [ann], spool))[0]!;
          } finally {
            await spool.release();
          }
        }),
      );
      const live = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const delivery = await pipeline.startLive('from@example.org', [ann]);
          return delivery!.store(pieces(`Subject: live ${i}\r\n\r\nbody\r\n`, 7), () => 0);
        }),
      );
      assert.deepEqual(
        [...spooled, ...live].map((o) => (o.ok ? o.stored.map((s) => s.mailbox).join() : `${o.failure.kind}: ${o.failure.message}`)),
        Array.from({ length: 12 }, () => 'Lists/new'),
      );
      assert.equal((await storedMessages(store, 'ann', 'Lists/new')).length, 12);
      assert.equal((await storedMessages(store, 'ann')).length, 0);
    } finally {
      await store.close();
    }
  });
}

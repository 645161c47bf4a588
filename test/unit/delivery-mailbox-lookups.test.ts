import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { DeliveryPipeline } from '../../src/delivery/pipeline.js';
import { MailboxLookups } from '../../src/delivery/mailbox-lookups.js';
import { MessageSpool } from '../../src/delivery/spool.js';
import type { DeliveryAction } from '../../src/delivery/types.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { ChangeListener, MailboxInfo, MailStore, UserMailbox } from '../../src/store/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('postroom-mailbox-lookups-');

/** A handle whose get() is counted (and can be held back), over a real store's handle. */
function counted(mail: UserMailbox): { mail: UserMailbox; gets: string[]; hold: (p: Promise<void> | null) => void } {
  const gets: string[] = [];
  let held: Promise<void> | null = null;
  const wrapped = Object.create(mail) as UserMailbox;
  wrapped.get = async (name: string): Promise<MailboxInfo> => {
    gets.push(name);
    const info = await mail.get(name);
    if (held) await held;
    return info;
  };
  return { mail: wrapped, gets, hold: (p) => (held = p) };
}

test('mailbox lookups: a name is read once, until the feed reports a change of the tree; a read the change overtook is not kept', async () => {
  const store = new MemoryStore();
  const ann = await store.open('ann');
  await ann.create('Lists');
  const { mail, gets, hold } = counted(ann);
  const lookups = new MailboxLookups(store, 100);

  const first = await lookups.get(mail, 'Lists');
  const again = lookups.get(mail, 'Lists');
  assert.ok(!(again instanceof Promise), 'known: answered without a promise');
  assert.equal(again.id, first.id);
  assert.deepEqual(gets, ['Lists']);

  // RENAME (and CREATE, DELETE, SUBSCRIBE) publishes 'mailboxes': the name is read again.
  await ann.rename('Lists', 'Old');
  await assert.rejects(Promise.resolve(lookups.get(mail, 'Lists')), (e: { kind?: string }) => e.kind === 'nonexistent');
  await ann.create('Lists');
  const fresh = await lookups.get(mail, 'Lists');
  assert.notEqual(fresh.id, first.id);
  assert.deepEqual(gets, ['Lists', 'Lists', 'Lists']);

  // A change while a read is under way: that read's answer is not kept.
  await ann.create('Tickets');
  let release!: () => void;
  hold(new Promise<void>((r) => (release = r)));
  const reading = lookups.get(mail, 'Tickets');
  await new Promise((r) => setImmediate(r));
  await ann.subscribe('Tickets', true);
  release();
  hold(null);
  await reading;
  await lookups.get(mail, 'Tickets');
  assert.deepEqual(gets.slice(3), ['Tickets', 'Tickets'], 'read again: the first read was overtaken by a change');
  lookups.clear();
  assert.equal(lookups.size, 0);
  await ann.close();
});

test('mailbox lookups: another user\'s mailbox is not kept, forget() drops a user, the least recently delivered user goes first', async () => {
  const watched: string[] = [];
  const unwatched: string[] = [];
  const feed = {
    watch: (user: string, _listener: ChangeListener) => {
      watched.push(user);
      return () => unwatched.push(user);
    },
  };
  const info = (name: string, shared: boolean): MailboxInfo => ({ id: name, name, noselect: false, subscribed: false, ...(shared ? { myRights: 'lrs' } : {}) });
  let reads = 0;
  const handle = (user: string): UserMailbox =>
    ({
      user,
      get: async (name: string) => {
        reads++;
        return info(name, name.startsWith('Shared/'));
      },
    }) as unknown as UserMailbox;
  const lookups = new MailboxLookups(feed, 2);
  await lookups.get(handle('ann'), 'Shared/bob/box');
  await lookups.get(handle('ann'), 'Shared/bob/box');
  assert.equal(reads, 2, 'a mailbox of another user is read every time');
  await lookups.get(handle('ann'), 'INBOX');
  lookups.get(handle('ann'), 'INBOX');
  assert.equal(reads, 3);
  lookups.forget('ann');
  await lookups.get(handle('ann'), 'INBOX');
  assert.equal(reads, 4, 'forgotten: read again');
  await lookups.get(handle('bob'), 'INBOX');
  await lookups.get(handle('carol'), 'INBOX'); // a third user: ann, the least recent, goes
  assert.deepEqual(unwatched, ['ann', 'ann']);
  assert.equal(lookups.size, 2);
  assert.deepEqual(watched, ['ann', 'ann', 'bob', 'carol']);
});

test('delivery with mailboxChanges (SQLite): fileinto finds a folder created, renamed and created again; nothing is read while the tree is unchanged', async () => {
  const store = await SqliteStore.open({ directory: newDir() });
  const auth = new StaticAuthenticator({ ann: 'x' });
  const gets: string[] = [];
  // Count the store's get() calls the pipeline makes.
  const counting: MailStore = Object.create(store) as MailStore;
  counting.open = async (user, options) => {
    const mail = await store.open(user, options);
    const inner = mail.get.bind(mail);
    mail.get = (name: string) => {
      gets.push(name);
      return inner(name);
    };
    return mail;
  };
  counting.watch = store.watch.bind(store);
  const plan: DeliveryAction[] = [{ kind: 'fileinto', mailbox: 'Lists', create: true }];
  const pipeline = new DeliveryPipeline({ store: counting, auth, mailboxChanges: store, filter: () => plan });
  const send = async (n: number): Promise<string[]> => {
    const spool = new MessageSpool({ memoryMax: 1 << 20, maxSize: 1 << 20, directory: newDir() });
    await spool.write(Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`));
    const outcomes = await pipeline.deliver('from@example.org', [await pipeline.resolve('ann@example.org')], spool);
    await spool.release();
    const o = outcomes[0]!;
    assert.ok(o.ok, JSON.stringify(o));
    return o.stored.map((s) => s.mailbox);
  };
  try {
    assert.deepEqual(await send(1), ['Lists']); // created by the delivery
    assert.deepEqual(await send(2), ['Lists']);
    assert.deepEqual(await send(3), ['Lists']);
    // 1: INBOX read, Lists missing (then created: the feed drops the entry); 2: both read and kept; 3: neither read.
    assert.deepEqual(gets, ['INBOX', 'Lists', 'INBOX', 'Lists']);
    const ann = await store.open('ann');
    await ann.rename('Lists', 'Lists-old');
    assert.deepEqual(await send(4), ['Lists']); // the old id is not used: a new Lists is made
    await ann.close();
    const check = await store.open('ann');
    assert.equal((await check.status((await check.get('Lists-old')).id)).messages, 3);
    assert.equal((await check.status((await check.get('Lists')).id)).messages, 1);
    await check.close();
    // After the rename both are read again (and Lists, missing, created).
    assert.deepEqual(gets.slice(4), ['INBOX', 'Lists']);
  } finally {
    pipeline.close();
    await store.close();
  }
});

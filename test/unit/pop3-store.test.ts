/** The store-backed mode over MemoryStore: INBOX as maildrop, UIDL, UPDATE state, the change feed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailboxChange } from '../../src/store/types.js';
import { RawPop3 } from '../e2e/pop3/raw-client.js';
import { tinyAuthenticator } from '../e2e/pop3/fixtures.js';

const msg = (n: number): Buffer => Buffer.from(`From: x${n}@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n.starts with dot\r\n`);

async function setup() {
  const store = new MemoryStore();
  const handle = await store.open('alice');
  const inbox = await handle.get('INBOX');
  for (let n = 1; n <= 3; n++) await handle.append(inbox.id, { content: msg(n) });
  const server = createPop3Server({
    store,
    auth: tinyAuthenticator({ alice: 'pw' }),
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
    limits: { authFailureDelaySeconds: 0 },
  });
  const { port } = await server.listen();
  return { store, handle, inbox, server, port: port! };
}

async function login(port: number): Promise<RawPop3> {
  const c = await RawPop3.connect(port);
  await c.greeting;
  await c.cmd('USER alice');
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  return c;
}

test('store mode: sizes, bytes and UIDL `${uidValidity}.${uid}` stable across sessions', async (t) => {
  const { store, handle, inbox, server, port } = await setup();
  t.after(async () => {
    await server.close();
    await store.close();
  });
  const snap = await handle.snapshot(inbox.id);
  let c = await login(port);
  const total = [1, 2, 3].reduce((s, n) => s + msg(n).length, 0);
  assert.equal(await c.cmd('STAT'), `+OK 3 ${total}`);
  await c.cmd('UIDL');
  const first = await c.multi();
  assert.deepEqual(first, snap.messages.map((m, i) => `${i + 1} ${snap.uidValidity}.${m.uid}`));
  assert.equal(await c.cmd('RETR 2'), `+OK ${msg(2).length} octets`);
  const raw = await c.rawMulti();
  assert.equal(raw.toString(), msg(2).toString().replace('\r\n.starts', '\r\n..starts') + '.\r\n');
  await c.cmd('QUIT');
  c = await login(port);
  await c.cmd('UIDL');
  assert.deepEqual(await c.multi(), first);
  await c.cmd('QUIT');
  const [rec] = await handle.records(inbox.id, [snap.messages[1].uid]);
  assert.ok(rec.flags.includes('\\Seen'), 'RETR marks the message \\Seen at QUIT');
});

test('store mode: DELE + QUIT expunges exactly those UIDs and publishes it; a drop changes nothing', async (t) => {
  const { store, handle, inbox, server, port } = await setup();
  t.after(async () => {
    await server.close();
    await store.close();
  });
  const changes: MailboxChange[] = [];
  const unwatch = store.watch('alice', (ch) => changes.push(ch));
  t.after(unwatch);
  const before = (await handle.snapshot(inbox.id)).messages.map((m) => m.uid);

  let c = await login(port);
  await c.cmd('DELE 1');
  await c.cmd('RETR 2');
  await c.rawMulti();
  c.close();
  await c.waitClosed();
  for (let i = 0; i < 100 && server.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual((await handle.snapshot(inbox.id)).messages.map((m) => m.uid), before);
  assert.equal(changes.length, 0, 'a dropped connection publishes nothing');

  c = await login(port);
  assert.match(await c.cmd('DELE 1'), /^\+OK/);
  assert.match(await c.cmd('DELE 3'), /^\+OK/);
  assert.match(await c.cmd('QUIT'), /^\+OK/);
  await c.waitClosed();
  assert.deepEqual((await handle.snapshot(inbox.id)).messages.map((m) => m.uid), [before[1]]);
  const expunges = changes.filter((ch) => ch.kind === 'expunge');
  assert.equal(expunges.length, 1);
  assert.deepEqual(expunges[0].kind === 'expunge' ? [...expunges[0].uids].sort((a, b) => a - b) : [], [before[0], before[2]]);
});

test('store mode: a message appended after a session appears in the next one', async (t) => {
  const { store, handle, inbox, server, port } = await setup();
  t.after(async () => {
    await server.close();
    await store.close();
  });
  const c = await login(port);
  assert.match(await c.cmd('STAT'), /^\+OK 3 /);
  await handle.append(inbox.id, { content: msg(4) });
  assert.match(await c.cmd('STAT'), /^\+OK 3 /, 'message numbers are fixed during a session');
  await c.cmd('QUIT');
  const d = await login(port);
  assert.match(await d.cmd('STAT'), /^\+OK 4 /);
  await d.cmd('QUIT');
});

test('store mode over SqliteStore: UIDLs survive a restart of server and store', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SqliteStore } = await import('../../src/store/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'pop3-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const auth = tinyAuthenticator({ alice: 'pw' });

  async function uidlsOnce(seed: boolean): Promise<string[]> {
    const store = await SqliteStore.open({ directory: dir });
    try {
      if (seed) {
        const h = await store.open('alice');
        const inbox = await h.get('INBOX');
        for (let n = 1; n <= 3; n++) await h.append(inbox.id, { content: msg(n) });
        await h.close();
      }
      const server = createPop3Server({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true });
      const { port } = await server.listen();
      try {
        const c = await login(port!);
        await c.cmd('UIDL');
        const lines = await c.multi();
        await c.cmd('QUIT');
        return lines;
      } finally {
        await server.close();
      }
    } finally {
      await store.close();
    }
  }
  const first = await uidlsOnce(true);
  assert.equal(first.length, 3);
  assert.deepEqual(await uidlsOnce(false), first);
});

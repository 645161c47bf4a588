/** The callback API details: connect/disconnect hooks, size(), streams, UIDL of odd ids, the idle timer. */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createPop3Server, type Pop3ConnectionInfo } from '../../src/pop3/server.js';
import { uidlForId } from '../../src/pop3/maildrop/callback-maildrop.js';
import { RawPop3 } from '../e2e/pop3/raw-client.js';
import { until } from '../helpers/raw-client.js';
import { memoryDrop } from '../e2e/pop3/fixtures.js';

test('connect can refuse a client; disconnect hears about every connection', async (t) => {
  const drop = memoryDrop({ gus: 'pw' }, { gus: {} });
  const seen: string[] = [];
  const server = createPop3Server({
    callbacks: {
      ...drop.callbacks,
      connect: (info) => {
        seen.push(`connect ${info.secure}`);
        return seen.length > 1 ? false : undefined;
      },
      disconnect: (info: Pop3ConnectionInfo) => {
        seen.push(`disconnect ${info.user ?? '-'}`);
      },
    },
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
  });
  t.after(() => server.close());
  const { port } = await server.listen();
  const a = await RawPop3.connect(port!);
  assert.match(await a.greeting, /^\+OK/);
  await a.cmd('USER gus');
  await a.cmd('PASS pw');
  await a.cmd('QUIT');
  await a.waitClosed();
  const b = await RawPop3.connect(port!);
  assert.match(await b.greeting, /^-ERR Connection refused/);
  await b.waitClosed();
  // The disconnects are reported asynchronously: waited for (until's hang guard), not for a fixed 0.5 s.
  await until('four callbacks', () => seen.length >= 4);
  assert.deepEqual(seen, ['connect false', 'disconnect gus', 'connect false', 'disconnect -']);
});

test('size() is used when given; retrieve may return a stream; odd ids get a hashed UIDL', async (t) => {
  let retrieved = 0;
  const body = 'Subject: s\n\nstreamed\n';
  const server = createPop3Server({
    callbacks: {
      authenticate: (user, password) => (password === 'pw' ? user.toLowerCase() : false),
      list: () => ['a b', 'x'.repeat(80)],
      size: () => Buffer.byteLength(body.replace(/\n/g, '\r\n')),
      retrieve: () => {
        retrieved += 1;
        return Readable.from([Buffer.from(body.slice(0, 5)), body.slice(5)]);
      },
      delete: () => undefined,
    },
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
  });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  await c.greeting;
  await c.cmd('USER GUS');
  assert.match(await c.cmd('PASS pw'), /^\+OK gus's maildrop has 2 messages/);
  assert.equal(await c.cmd('STAT'), '+OK 2 48');
  assert.equal(retrieved, 0, 'sizes came from size(), nothing was retrieved');
  await c.cmd('UIDL');
  const uidls = (await c.multi()).map((l) => l.split(' ')[1]);
  assert.equal(uidls[0], uidlForId('a b'));
  assert.match(uidls[0], /^[\x21-\x7e]{1,70}$/);
  assert.notEqual(uidls[0], uidls[1]);
  assert.equal(uidlForId('a b'), uidlForId('a b'), 'stable');
  assert.equal(await c.cmd('RETR 1'), '+OK 24 octets');
  assert.equal((await c.rawMulti()).toString(), 'Subject: s\r\n\r\nstreamed\r\n.\r\n');
  await c.cmd('QUIT');
});

test('a failing delete callback is reported at QUIT as -ERR [SYS/TEMP]', async (t) => {
  const drop = memoryDrop({ gus: 'pw' }, { gus: { m: 'Subject: m\r\n\r\nx\r\n' } });
  const server = createPop3Server({
    callbacks: { ...drop.callbacks, delete: () => Promise.reject(new Error('disk on fire')) },
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
  });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  await c.greeting;
  await c.cmd('USER gus');
  await c.cmd('PASS pw');
  await c.cmd('DELE 1');
  assert.match(await c.cmd('QUIT'), /^-ERR \[SYS\/TEMP\] Some deleted messages not removed/);
  await c.waitClosed();
});

test('an idle session is dropped after idleSeconds without deleting anything', async (t) => {
  const drop = memoryDrop({ gus: 'pw' }, { gus: { m: 'Subject: m\r\n\r\nx\r\n' } });
  const server = createPop3Server({ callbacks: drop.callbacks, port: 0, tlsPort: null, allowInsecureAuth: true });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  await c.greeting;
  await c.cmd('USER gus');
  await c.cmd('PASS pw');
  await c.cmd('DELE 1');
  // Only the server's timer is faked from here on; the test waits with setImmediate.
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  await c.cmd('NOOP'); // re-arms the idle timer under the fake clock
  mock.timers.tick(599_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(c.closed, false, 'still open before ten minutes');
  mock.timers.tick(2_000);
  for (let i = 0; i < 1000 && !c.closed; i++) await new Promise((r) => setImmediate(r));
  assert.equal(c.closed, true);
  assert.deepEqual(drop.deletions, []);
});

test('APOP with a secret() callback: the server computes and compares the digest', async (t) => {
  const { apopDigest } = await import('../../src/pop3/server.js');
  const drop = memoryDrop({}, { gus: { m: 'Subject: m\r\n\r\nx\r\n' } });
  const server = createPop3Server({
    callbacks: { ...drop.callbacks, secret: (user) => (user === 'gus' ? 's3cret' : null) },
    port: 0,
    tlsPort: null,
    limits: { authFailureDelaySeconds: 0 },
  });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  const ts = /(<[^>]+>)$/.exec(await c.greeting)![1];
  assert.match(await c.cmd(`APOP nobody ${apopDigest(ts, 's3cret')}`), /^-ERR \[AUTH\]/);
  assert.match(await c.cmd(`APOP gus ${apopDigest(ts, 'S3CRET')}`), /^-ERR \[AUTH\]/);
  assert.match(await c.cmd(`APOP gus ${apopDigest(ts, 's3cret').toUpperCase()}`), /^\+OK/);
  await c.cmd('QUIT');
});

test('no APOP source: no timestamp in the greeting and APOP refused', async (t) => {
  const drop = memoryDrop({ gus: 'pw' }, { gus: {} });
  const server = createPop3Server({ callbacks: drop.callbacks, port: 0, tlsPort: null });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  assert.doesNotMatch(await c.greeting, /</);
  assert.match(await c.cmd(`APOP gus ${'0'.repeat(32)}`), /^-ERR APOP is not available/);
  await c.cmd('QUIT');
});

/** A POP3 session end to end over a raw socket, callback mode: RFC 1939 §5-§7 in order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPop3Server, apopDigest, type Pop3ServerOptions } from '../../src/pop3/server.js';
import { RawPop3 } from '../e2e/pop3/raw-client.js';
import { memoryDrop } from '../e2e/pop3/fixtures.js';

const MSG1 = 'From: a@example.org\r\nSubject: one\r\n\r\nhello\r\n.dot line\r\nbye\r\n';
// Bare LF on purpose: the wire must carry CRLF anyway.
const MSG2 = 'From: b@example.org\nSubject: two\n\nline1\nline2\nline3\n';

async function start(extra: Partial<Pop3ServerOptions> = {}) {
  const drop = memoryDrop({ alice: 'secret pw' }, { alice: { 'id-1': MSG1, 'id 2 with spaces': MSG2 } });
  const server = createPop3Server({
    callbacks: drop.callbacks,
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
    limits: { authFailureDelaySeconds: 0 },
    ...extra,
  });
  const { port } = await server.listen();
  return { drop, server, port: port! };
}

async function login(port: number): Promise<RawPop3> {
  const c = await RawPop3.connect(port);
  assert.match(await c.greeting, /^\+OK /);
  assert.match(await c.cmd('USER alice'), /^\+OK/);
  assert.match(await c.cmd('PASS secret pw'), /^\+OK/);
  return c;
}

test('USER/PASS, STAT, LIST, UIDL, RETR, TOP with CRLF, stuffing and matching sizes', async (t) => {
  const { server, port } = await start();
  t.after(() => server.close());
  const c = await login(port);
  const size2 = Buffer.byteLength(MSG2.replace(/\n/g, '\r\n'));
  assert.equal(await c.cmd('STAT'), `+OK 2 ${MSG1.length + size2}`);
  assert.match(await c.cmd('LIST'), /^\+OK 2 messages/);
  assert.deepEqual(await c.multi(), [`1 ${MSG1.length}`, `2 ${size2}`]);
  assert.equal(await c.cmd('LIST 2'), `+OK 2 ${size2}`);
  assert.match(await c.cmd('UIDL'), /^\+OK/);
  const uidls = await c.multi();
  assert.equal(uidls[0], '1 id-1');
  assert.match(uidls[1], /^2 [\x21-\x7e]{1,70}$/);
  assert.equal(await c.cmd('RETR 1'), `+OK ${MSG1.length} octets`);
  const raw = await c.rawMulti();
  assert.equal(raw.toString(), MSG1.replace('\r\n.dot', '\r\n..dot') + '.\r\n');
  assert.equal(await c.cmd('RETR 2'), `+OK ${size2} octets`);
  const raw2 = await c.rawMulti();
  assert.equal(raw2.length - 3, size2, 'octets sent match the size announced');
  assert.match(await c.cmd('TOP 2 1'), /^\+OK/);
  assert.deepEqual(await c.multi(), ['From: b@example.org', 'Subject: two', '', 'line1']);
  assert.equal(await c.cmd('QUIT'), '+OK Bye, 2 messages left in maildrop');
  await c.waitClosed();
});

test('DELE applies only at QUIT; RSET undoes; a dropped connection deletes nothing', async (t) => {
  const { server, port, drop } = await start();
  t.after(() => server.close());
  let c = await login(port);
  assert.match(await c.cmd('DELE 1'), /^\+OK/);
  assert.match(await c.cmd('DELE 1'), /^-ERR Message 1 already deleted/);
  assert.match(await c.cmd('RETR 1'), /^-ERR/);
  assert.match(await c.cmd('STAT'), /^\+OK 1 /);
  assert.match(await c.cmd('RSET'), /^\+OK/);
  assert.match(await c.cmd('STAT'), /^\+OK 2 /);
  assert.match(await c.cmd('DELE 2'), /^\+OK/);
  c.close();
  await c.waitClosed();
  // give the server a moment to notice and release the lock
  for (let i = 0; i < 50 && server.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(drop.deletions, []);
  c = await login(port);
  assert.match(await c.cmd('STAT'), /^\+OK 2 /);
  assert.match(await c.cmd('DELE 2'), /^\+OK/);
  assert.match(await c.cmd('QUIT'), /^\+OK/);
  assert.deepEqual(drop.deletions, ['alice/id 2 with spaces']);
});

test('a second session for the same user gets -ERR [IN-USE]', async (t) => {
  const { server, port } = await start();
  t.after(() => server.close());
  const a = await login(port);
  const b = await RawPop3.connect(port);
  await b.greeting;
  await b.cmd('USER alice');
  assert.match(await b.cmd('PASS secret pw'), /^-ERR \[IN-USE\]/);
  assert.match(await a.cmd('QUIT'), /^\+OK/);
  assert.match(await b.cmd('USER alice'), /^\+OK/);
  assert.match(await b.cmd('PASS secret pw'), /^\+OK/);
  await b.cmd('QUIT');
});

test('APOP checks the digest against this greeting timestamp', async (t) => {
  const secrets: Record<string, string> = { alice: 'tanstaaf' };
  const drop = memoryDrop({}, { alice: { a: MSG1 } });
  const server = createPop3Server({
    callbacks: {
      ...drop.callbacks,
      apop: (user, digest, greeting) => secrets[user] !== undefined && apopDigest(greeting, secrets[user]) === digest,
    },
    port: 0,
    tlsPort: null,
    limits: { authFailureDelaySeconds: 0 },
  });
  t.after(() => server.close());
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  const greeting = await c.greeting;
  const ts = /(<[^>]+>)$/.exec(greeting)?.[1];
  assert.ok(ts, 'greeting carries a timestamp');
  assert.match(await c.cmd(`APOP alice ${apopDigest(ts, 'wrong')}`), /^-ERR \[AUTH\]/);
  assert.match(await c.cmd(`APOP alice ${apopDigest(ts, 'tanstaaf')}`), /^\+OK/);
  assert.equal(await c.cmd('STAT'), `+OK 1 ${MSG1.length}`);
  await c.cmd('QUIT');
});

test('failed logins are limited, then the server hangs up', async (t) => {
  const { server, port } = await start({ limits: { maxAuthFailures: 2, authFailureDelaySeconds: 0 } });
  t.after(() => server.close());
  const c = await RawPop3.connect(port);
  await c.greeting;
  await c.cmd('USER alice');
  assert.match(await c.cmd('PASS nope'), /^-ERR \[AUTH\]/);
  await c.cmd('USER alice');
  assert.match(await c.cmd('PASS nope'), /^-ERR \[AUTH\].*too many/);
  await c.waitClosed();
});

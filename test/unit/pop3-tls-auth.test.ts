/** CAPA by state, STLS (RFC 2595), AUTH (RFC 5034), implicit TLS, LOGIN-DELAY and EXPIRE (RFC 2449). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPop3Server, type Pop3ServerOptions } from '../../src/pop3/server.js';
import { RawPop3 } from '../e2e/pop3/raw-client.js';
import { memoryDrop, testCertificate } from '../e2e/pop3/fixtures.js';

async function start(extra: Partial<Pop3ServerOptions> = {}) {
  const drop = memoryDrop({ carol: 'pw' }, { carol: { a: 'Subject: a\r\n\r\nA\r\n' } });
  const server = createPop3Server({
    callbacks: drop.callbacks,
    port: 0,
    tlsPort: 0,
    tls: await testCertificate(),
    limits: { authFailureDelaySeconds: 0 },
    ...extra,
  });
  const ports = await server.listen();
  return { server, port: ports.port!, tlsPort: ports.tlsPort! };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('plain connection: no clear-text login until STLS; pipelined input after STLS is discarded', async (t) => {
  const { server, port } = await start();
  t.after(() => server.close());
  const c = await RawPop3.connect(port);
  await c.greeting;
  assert.match(await c.cmd('CAPA'), /^\+OK/);
  const before = await c.multi();
  assert.ok(before.includes('STLS'));
  assert.ok(!before.includes('USER'));
  assert.ok(!before.some((l) => l.startsWith('SASL')));
  for (const cap of ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING']) assert.ok(before.includes(cap), cap);
  assert.ok(before.some((l) => l.startsWith('IMPLEMENTATION ')));
  assert.match(await c.cmd('USER carol'), /^-ERR \[AUTH\].*STLS/);
  assert.match(await c.cmd(`AUTH PLAIN ${b64('\0carol\0pw')}`), /^-ERR Unsupported/);

  c.send('STLS\r\nUSER carol\r\n');
  assert.match(await c.line(), /^\+OK Begin TLS/);
  await c.startTls();
  assert.match(await c.cmd('PASS pw'), /^-ERR Send USER first/, 'the pipelined USER was not run');
  await c.cmd('CAPA');
  const after = await c.multi();
  assert.ok(after.includes('USER'));
  assert.ok(after.includes('SASL PLAIN LOGIN'));
  assert.ok(!after.includes('STLS'));
  assert.match(await c.cmd('STLS'), /^-ERR/);
  await c.cmd('USER carol');
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  await c.cmd('CAPA');
  const inside = await c.multi();
  assert.ok(!inside.includes('USER') && !inside.includes('STLS'));
  await c.cmd('QUIT');
});

test('implicit TLS: AUTH PLAIN with and without initial response, cancel, bad base64', async (t) => {
  const { server, tlsPort } = await start();
  t.after(() => server.close());
  const c = await RawPop3.connect(tlsPort, { tls: true });
  assert.match(await c.greeting, /^\+OK/);
  assert.match(await c.cmd('AUTH'), /^\+OK/);
  assert.deepEqual(await c.multi(), ['PLAIN', 'LOGIN']);
  assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
  assert.match(await c.cmd('*'), /^-ERR Authentication cancelled/);
  assert.match(await c.cmd('AUTH PLAIN !!!'), /^-ERR Invalid base64/);
  assert.match(await c.cmd('AUTH PLAIN =A=='), /^-ERR Invalid base64/);
  assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
  assert.match(await c.cmd(b64('\0carol\0wrong')), /^-ERR \[AUTH\]/);
  assert.equal(await c.cmd('AUTH plain'), '+ ');
  assert.match(await c.cmd(b64('\0carol\0pw')), /^\+OK/);
  assert.match(await c.cmd('STAT'), /^\+OK 1 /);
  await c.cmd('QUIT');

  const d = await RawPop3.connect(tlsPort, { tls: true });
  await d.greeting;
  assert.match(await d.cmd(`AUTH PLAIN ${b64('\0carol\0pw')}`), /^\+OK/);
  assert.match(await d.cmd('AUTH PLAIN'), /^-ERR AUTH is not valid after login/);
  await d.cmd('QUIT');
});

test('LOGIN-DELAY is announced and enforced; EXPIRE is announced, per user after login', async (t) => {
  const { server, tlsPort } = await start({
    loginDelay: (user) => (user === null ? 900 : 120),
    expireTime: (user) => (user === null ? 5 : 'NEVER'),
  });
  t.after(() => server.close());
  const c = await RawPop3.connect(tlsPort, { tls: true });
  await c.greeting;
  await c.cmd('CAPA');
  const pre = await c.multi();
  assert.ok(pre.includes('LOGIN-DELAY 900 USER'));
  assert.ok(pre.includes('EXPIRE 5 USER'));
  await c.cmd('USER carol');
  await c.cmd('PASS pw');
  await c.cmd('CAPA');
  const post = await c.multi();
  assert.ok(post.includes('LOGIN-DELAY 120'));
  assert.ok(post.includes('EXPIRE NEVER'));
  await c.cmd('QUIT');
  const d = await RawPop3.connect(tlsPort, { tls: true });
  await d.greeting;
  await d.cmd('USER carol');
  assert.match(await d.cmd('PASS pw'), /^-ERR \[LOGIN-DELAY\]/);
  await d.cmd('QUIT');
});

test('fixed EXPIRE and LOGIN-DELAY values carry no USER tag', async (t) => {
  const { server, tlsPort } = await start({ loginDelay: 0, expireTime: 'NEVER' });
  t.after(() => server.close());
  const c = await RawPop3.connect(tlsPort, { tls: true });
  await c.greeting;
  await c.cmd('CAPA');
  const caps = await c.multi();
  assert.ok(caps.includes('LOGIN-DELAY 0'));
  assert.ok(caps.includes('EXPIRE NEVER'));
  await c.cmd('QUIT');
});

test('STLS: a USER pipelined in clear text is not carried into the TLS session', async (t) => {
  // allowInsecureAuth makes the injected USER one that would have succeeded, had it been run.
  const { server, port } = await start({ allowInsecureAuth: true });
  t.after(() => server.close());
  const c = await RawPop3.connect(port);
  await c.greeting;
  c.send('STLS\r\nUSER carol\r\n');
  assert.match(await c.line(), /^\+OK Begin TLS/);
  await c.startTls();
  assert.match(await c.cmd('PASS pw'), /^-ERR Send USER first/);
  await c.cmd('QUIT');
});

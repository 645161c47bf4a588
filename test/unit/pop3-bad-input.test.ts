/** Bad input is answered with -ERR and a reason, and the session serves on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPop3Server } from '../../src/pop3/server.js';
import { RawPop3 } from '../e2e/pop3/raw-client.js';
import { memoryDrop } from '../e2e/pop3/fixtures.js';

async function start(maxBadCommands = 20) {
  const drop = memoryDrop({ bob: 'pw' }, { bob: { a: 'Subject: a\r\n\r\nA\r\n', b: 'Subject: b\r\n\r\nB\r\n' } });
  const server = createPop3Server({
    callbacks: drop.callbacks,
    port: 0,
    tlsPort: null,
    allowInsecureAuth: true,
    limits: { authFailureDelaySeconds: 0, maxBadCommands },
  });
  const { port } = await server.listen();
  const c = await RawPop3.connect(port!);
  await c.greeting;
  return { server, c };
}

test('unknown commands and commands in the wrong state', async (t) => {
  const { server, c } = await start();
  t.after(() => server.close());
  assert.match(await c.cmd('FROB'), /^-ERR Unknown command: FROB/);
  assert.match(await c.cmd('STAT'), /^-ERR STAT is not valid before login/);
  assert.match(await c.cmd('RETR 1'), /^-ERR RETR is not valid before login/);
  assert.match(await c.cmd('PASS pw'), /^-ERR Send USER first/);
  assert.match(await c.cmd(''), /^-ERR Empty command/);
  assert.match(await c.cmd('\x01\x02'), /^-ERR/);
  await c.cmd('USER bob');
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  assert.match(await c.cmd('USER bob'), /^-ERR USER is not valid after login/);
  assert.match(await c.cmd('STLS'), /^-ERR STLS is not valid after login/);
  assert.match(await c.cmd('NOOP'), /^\+OK/);
  await c.cmd('QUIT');
});

test('arguments out of range or malformed', async (t) => {
  const { server, c } = await start();
  t.after(() => server.close());
  await c.cmd('USER bob');
  await c.cmd('PASS pw');
  assert.match(await c.cmd('RETR 0'), /^-ERR No such message/);
  assert.match(await c.cmd('RETR 3'), /^-ERR No such message/);
  assert.match(await c.cmd('LIST 99999999999999'), /^-ERR Invalid message number/);
  assert.match(await c.cmd('DELE -1'), /^-ERR Invalid message number/);
  assert.match(await c.cmd('RETR'), /^-ERR RETR takes one message number/);
  assert.match(await c.cmd('TOP 1'), /^-ERR TOP takes a message number and a number of lines/);
  assert.match(await c.cmd('TOP 1 x'), /^-ERR Invalid number of lines/);
  assert.match(await c.cmd('STAT 1'), /^-ERR STAT takes no arguments/);
  assert.match(await c.cmd('UIDL 1 2'), /^-ERR UIDL takes at most one/);
  assert.match(await c.cmd('STAT'), /^\+OK 2 /);
  await c.cmd('QUIT');
});

test('a 1 MB line is refused without killing the session', async (t) => {
  const { server, c } = await start();
  t.after(() => server.close());
  c.send(Buffer.concat([Buffer.from('USER '), Buffer.alloc(1024 * 1024, 0x61), Buffer.from('\r\n')]));
  assert.match(await c.line(), /^-ERR Line too long \(1048583 octets/);
  assert.match(await c.cmd('USER bob'), /^\+OK/);
  assert.match(await c.cmd('PASS pw'), /^\+OK/);
  await c.cmd('QUIT');
});

test('pipelined commands are answered in order', async (t) => {
  const { server, c } = await start();
  t.after(() => server.close());
  c.send('USER bob\r\nPASS pw\r\nSTAT\r\nBOGUS\r\nLIST\r\nUIDL 2\r\nRETR 2\r\nNOOP\r\nQUIT\r\n');
  assert.match(await c.line(), /^\+OK/);
  assert.match(await c.line(), /^\+OK/);
  assert.match(await c.line(), /^\+OK 2 /);
  assert.match(await c.line(), /^-ERR Unknown command/);
  assert.match(await c.line(), /^\+OK 2 messages/);
  assert.equal((await c.multi()).length, 2);
  assert.equal(await c.line(), '+OK 2 b');
  assert.match(await c.line(), /^\+OK \d+ octets/);
  assert.deepEqual(await c.multi(), ['Subject: b', '', 'B']);
  assert.match(await c.line(), /^\+OK/);
  assert.match(await c.line(), /^\+OK Bye/);
  await c.waitClosed();
});

test('too many bad commands end the connection', async (t) => {
  const { server, c } = await start(3);
  t.after(() => server.close());
  assert.match(await c.cmd('X1'), /^-ERR/);
  assert.match(await c.cmd('X2'), /^-ERR/);
  assert.match(await c.cmd('X3'), /^-ERR .*too many bad commands/);
  await c.waitClosed();
});

test('welcome over 506 bytes is refused at start', () => {
  const drop = memoryDrop({}, {});
  assert.throws(() => createPop3Server({ callbacks: drop.callbacks, welcome: 'x'.repeat(507) }), /RFC 1939/);
  assert.throws(() => createPop3Server({ callbacks: drop.callbacks, welcome: 'a\r\nb' }), /single line/);
  assert.doesNotThrow(() => createPop3Server({ callbacks: drop.callbacks, welcome: 'x'.repeat(400) }));
  assert.throws(() => createPop3Server({ callbacks: drop.callbacks, limits: { idleSeconds: 60 } }), /at least 600/);
});

test('status lines never exceed 512 octets', async () => {
  const { statusLine } = await import('../../src/pop3/session/dispatcher.js');
  const line = statusLine(false, 'é'.repeat(600), 'SYS/PERM');
  assert.ok(Buffer.byteLength(line) <= 512);
  assert.ok(line.endsWith('\r\n'));
  assert.ok(!line.includes('\uFFFD'));
});

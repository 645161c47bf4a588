/**
 * The POP3 server's embedder controls, the same as the IMAP server's (issue 18): hooks onConnect
 * (refuse before the greeting), onAuth (every login outcome), onCommand (per-command
 * authorization with -ERR, or closing), onClose; the 'error' event for listener failures;
 * disconnect(id) gracefully or by force. Over real sockets, with Python's poplib for the client
 * side of authorization.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type net from 'node:net';
import { createPop3Server, type Pop3Server, type Pop3ServerOptions } from '../../src/pop3/server.js';
import { Pop3Error } from '../../src/pop3/errors.js';
import type { Pop3AuthEvent, Pop3CommandEvent } from '../../src/index.js';
import type { Pop3ConnectionInfo } from '../../src/pop3/options.js';
import { memoryDrop } from './pop3/fixtures.js';
import { RawPop3 } from './pop3/raw-client.js';

const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);

async function start(t: { after(fn: () => Promise<void>): void }, hooks: Pop3ServerOptions['hooks'] = {}): Promise<{ server: Pop3Server; port: number }> {
  const drop = memoryDrop({ alice: 'secret' }, { alice: { m1: 'Subject: one\r\n\r\nfirst\r\n', m2: 'Subject: two\r\n\r\nsecond\r\n' } });
  const server = createPop3Server({ callbacks: drop.callbacks, port: 0, tlsPort: null, allowInsecureAuth: true, limits: { authFailureDelaySeconds: 0 }, hooks });
  const { port } = await server.listen();
  t.after(() => server.close());
  return { server, port: port! };
}

/** Python poplib: a wrong password, then a login, STAT, RETR 1 (refused by the hook), QUIT. */
function poplib(port: number): Promise<Record<string, string>> {
  const script = `
import json, poplib, sys
out = {}
p = poplib.POP3('127.0.0.1', ${port}, timeout=20)
p.user('alice')
try:
    p.pass_('wrong')
except poplib.error_proto as e:
    out['wrong'] = e.args[0].decode()
p.quit()
p = poplib.POP3('127.0.0.1', ${port}, timeout=20)
p.user('alice'); p.pass_('secret')
out['stat'] = str(p.stat())
try:
    p.retr(1)
except poplib.error_proto as e:
    out['retr'] = e.args[0].decode()
out['top'] = b'\\n'.join(p.top(2, 0)[1]).decode()
p.quit()
print(json.dumps(out))
`;
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Record<string, string>)));
  });
}

test('onAuth hears each login outcome, onCommand refuses RETR for poplib, onClose once per connection', async (t) => {
  const auths: Pop3AuthEvent[] = [];
  const commands: Pop3CommandEvent[] = [];
  const closes: Pop3ConnectionInfo[] = [];
  const connects: Pop3ConnectionInfo[] = [];
  const { port } = await start(t, {
    onConnect: (s) => void connects.push(s),
    onAuth: (e) => void auths.push(e),
    onCommand: (e) => {
      commands.push(e);
      if (e.command === 'RETR') throw new Pop3Error('Downloads are off for you');
    },
    onClose: (s) => void closes.push(s),
  });
  const out = await poplib(port);
  assert.match(out.wrong!, /^-ERR/);
  assert.equal(out.stat, '(2, 47)');
  assert.equal(out.retr, '-ERR Downloads are off for you');
  assert.match(out.top!, /Subject: two/);
  assert.deepEqual(auths.map((a) => [a.username, a.mechanism, a.ok]), [['alice', 'USER', false], ['alice', 'USER', true]]);
  const second = commands.filter((c) => c.id === auths[1]!.id);
  assert.deepEqual(second.map((c) => [c.command, c.state, c.user ?? null]), [
    ['USER', 'authorization', null],
    ['PASS', 'authorization', null],
    ['STAT', 'transaction', 'alice'],
    ['RETR', 'transaction', 'alice'],
    ['TOP', 'transaction', 'alice'],
    ['QUIT', 'transaction', 'alice'],
  ]);
  assert.deepEqual(second.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
  await within(5000, 'onClose', (async () => { while (closes.length < 2) await new Promise((r) => setTimeout(r, 10)); })());
  assert.equal(connects.length, 2);
  assert.deepEqual(new Set(closes.map((c) => c.id)), new Set(connects.map((c) => c.id)));
});

test('onConnect refuses before the greeting; an onCommand Pop3Error with close ends the session', async (t) => {
  let refuse = true;
  const { port } = await start(t, {
    onConnect: () => (refuse ? false : undefined),
    onCommand: (e) => {
      if (e.command === 'NOOP') throw new Pop3Error('Enough', undefined, true);
    },
  });
  const refused = await RawPop3.connect(port);
  assert.match(await refused.greeting, /^-ERR Connection refused/);
  await refused.waitClosed();
  refuse = false;
  const c = await RawPop3.connect(port);
  assert.match(await c.greeting, /^\+OK/);
  assert.match(await c.cmd('USER alice'), /^\+OK/);
  assert.match(await c.cmd('PASS secret'), /^\+OK/);
  assert.match(await c.cmd('NOOP'), /^-ERR Enough/);
  await c.waitClosed();
});

test("disconnect(id) ends a session after its command, or at once with force; a listener error reaches 'error'", async (t) => {
  const { server, port } = await start(t);
  const a = await RawPop3.connect(port);
  await a.greeting;
  assert.match(await a.cmd('USER alice'), /^\+OK/);
  assert.match(await a.cmd('PASS secret'), /^\+OK/);
  const b = await RawPop3.connect(port);
  await b.greeting;
  const [first, second] = server.connections();
  assert.ok(first && second);
  assert.equal(server.disconnect(first.id), true);
  await a.waitClosed();
  assert.equal(server.disconnect(second.id, { force: true }), true);
  await b.waitClosed();
  assert.equal(server.disconnect('no-such-id'), false);
  const seen = new Promise<Error>((resolve) => server.on('error', resolve));
  (server as unknown as { netServers: net.Server[] }).netServers[0]!.emit('error', new Error('accept failed'));
  assert.equal((await within(2000, 'error event', seen)).message, 'accept failed');
});

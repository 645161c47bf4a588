/**
 * The createImapServer() API beyond commands: option checks, connection bookkeeping, polling for
 * stores without a change feed, timers, and graceful close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImapServer } from '../../src/imap/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import type { MailStore } from '../../src/store/types.js';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, until } from '../helpers/raw-client.js';

const auth = new StaticAuthenticator({ alice: 'secret' });

test('authIdleSeconds below 30 minutes is refused (RFC 3501 §5.4)', () => {
  assert.throws(() => createImapServer({ store: new MemoryStore(), auth, authIdleSeconds: 1000 }), /1800/);
  assert.throws(() => createImapServer({ store: new MemoryStore(), auth, limits: { maxNesting: -1 } }), /maxNesting/);
  assert.ok(createImapServer({ store: new MemoryStore(), auth, authIdleSeconds: 1800 }));
});

test('connections(), connectionsForUser() and connectionsForMailbox() describe who is connected', async () => {
  const server = await startImapServer();
  const a = new RawClient(server.port);
  const b = new RawClient(server.port);
  try {
    await a.login();
    await b.expect(/^\* OK/);
    a.send('s SELECT INBOX\r\n');
    await a.expect(/^s OK/);
    const all = server.server.connections();
    assert.equal(all.length, 2);
    assert.ok(all.every((c) => c.remoteAddress === '127.0.0.1' && c.secure === false));
    assert.deepEqual(server.server.connectionsForUser('alice').map((c) => c.mailbox), ['INBOX']);
    assert.equal(server.server.connectionsForMailbox('INBOX').length, 1);
    assert.equal(server.server.connectionsForMailbox('INBOX', 'bob').length, 0);
    b.destroy();
    // The server notices the close asynchronously: waited for (until's hang guard), not for a fixed second.
    await until('the closed connection is gone', () => server.server.connections().length === 1);
    assert.equal(server.server.connections().length, 1);
  } finally {
    a.destroy();
    await server.close();
  }
});

/** A store that hears nothing: its watch() never reports, as for mail changed by another program. */
function deafStore(inner: MemoryStore): MailStore {
  return {
    delimiter: inner.delimiter,
    crossProcessChanges: false,
    open: (user, options) => inner.open(user, options),
    watch: () => () => undefined,
    close: () => inner.close(),
  };
}

test('pollIntervalSeconds finds changes a store without a change feed cannot report', async () => {
  const inner = new MemoryStore();
  for (const poll of [0, 1]) {
    const server = await startImapServer({ store: deafStore(inner), pollIntervalSeconds: poll });
    const c = new RawClient(server.port);
    try {
      await c.login();
      c.send('s SELECT INBOX\r\n');
      const exists = Number(/^\* (\d+) EXISTS/.exec(await c.expect(/EXISTS$/))![1]);
      const other = await inner.open('alice');
      await other.append((await other.get('INBOX')).id, { content: Buffer.from('Subject: behind your back\r\n\r\nx\r\n') });
      await c.expect(/^s OK/);
      await new Promise((r) => setTimeout(r, 1300));
      c.send('n NOOP\r\n');
      const reply = await c.expect(new RegExp(`^(\\* ${exists + 1} EXISTS|n OK)`));
      if (poll) assert.equal(reply, `* ${exists + 1} EXISTS`, 'polling reported the new message');
      else assert.match(reply, /^n OK/, 'without polling nothing is reported');
    } finally {
      c.destroy();
      await server.close();
    }
  }
});

test('close() says BYE to idle clients and to clients in IDLE, then resolves', async () => {
  const server = await startImapServer();
  const idle = new RawClient(server.port);
  const idling = new RawClient(server.port);
  await idle.login();
  await idling.login();
  idling.send('i IDLE\r\n');
  await idling.expect(/^\+ /);
  const closed = server.close();
  assert.match(await idle.expect(/^\* BYE/), /shutting down/);
  assert.match(await idling.expect(/^\* BYE/), /shutting down/);
  await closed;
  await idle.waitClosed();
  await idling.waitClosed();
});

test('an unauthenticated client that says nothing is logged out after unauthIdleSeconds', async () => {
  const server = await startImapServer({ unauthIdleSeconds: 1 });
  const c = new RawClient(server.port);
  try {
    await c.expect(/^\* OK/);
    const started = Date.now();
    assert.match(await c.expect(/^\* BYE/, 4000), /[Aa]utologout|idle/);
    assert.ok(Date.now() - started >= 900);
    await c.waitClosed();
  } finally {
    c.destroy();
    await server.close();
  }
});

test('every command postpones the autologout, which still comes once the client falls silent', async () => {
  // The idle timer is restarted in place at each command (connection.ts startIdleTimer).
  const server = await startImapServer({ unauthIdleSeconds: 1 });
  const c = new RawClient(server.port);
  try {
    await c.expect(/^\* OK/);
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 400));
      c.send(`n${i} NOOP\r\n`);
      assert.match(await c.expect(new RegExp(`^n${i} `)), /^n\d OK/);
    }
    assert.ok(Date.now() - started >= 1900, 'still connected past twice the idle limit while active');
    const silent = Date.now();
    assert.match(await c.expect(/^\* BYE/, 4000), /[Aa]utologout|idle/);
    assert.ok(Date.now() - silent >= 500, 'logged out a full idle limit after the last command, not at the first timer');
    await c.waitClosed();
  } finally {
    c.destroy();
    await server.close();
  }
});

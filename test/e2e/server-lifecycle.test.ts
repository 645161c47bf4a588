/**
 * The embedder's controls over an ImapServer: listen() once, close() that does not wait forever on a
 * store call that never returns (timeoutMs, force, AbortSignal), hooks (onConnect, onAuth,
 * onCommand for per-command authorization, onClose), the 'error' event, disconnect(id) and alert().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImapServer, type ImapServer } from '../../src/imap/server.js';
import { ImapError } from '../../src/imap/errors.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore, UserMailbox } from '../../src/store/types.js';
import type { ImapAuthEvent, ImapCommandEvent, ImapServerOptions } from '../../src/index.js';
import { RawClient, run, until } from '../helpers/raw-client.js';
import { tinyAuthenticator } from './pop3/fixtures.js';

const auth = tinyAuthenticator({ alice: 'secret' });

async function start(t: import('node:test').TestContext, extra: Partial<ImapServerOptions> = {}, store: MailStore = new MemoryStore()) {
  const server = createImapServer({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true, limits: { idleHibernateSeconds: 0 }, ...extra });
  const { port } = await server.listen();
  t.after(() => server.close({ force: true }));
  return { server, port: port! };
}

async function loggedIn(t: import('node:test').TestContext, port: number): Promise<RawClient> {
  const c = new RawClient(port);
  t.after(() => c.destroy());
  await c.login();
  return c;
}

/** A store whose STATUS never answers. */
function hangingStore(): MailStore {
  const inner = new MemoryStore();
  return {
    delimiter: '/',
    lineEnds: 'crlf',
    open: async (user, o) => Object.assign(Object.create(await inner.open(user, o)) as UserMailbox, { status: () => new Promise<never>(() => undefined) }),
    watch: (u, l) => inner.watch(u, l),
    close: () => inner.close(),
  };
}

const within = async <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms))]);

test('listen() twice is an error, not a second port', async (t) => {
  const { server } = await start(t);
  await assert.rejects(server.listen(), /already listening/);
});

for (const how of ['timeoutMs', 'force', 'signal'] as const) {
  test(`close({ ${how} }) returns although a store call never does`, async (t) => {
    const { server, port } = await start(t, {}, hangingStore());
    const c = await loggedIn(t, port);
    c.send('S STATUS INBOX (MESSAGES)\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const abort = new AbortController();
    const options = how === 'timeoutMs' ? { timeoutMs: 200 } : how === 'force' ? { force: true } : { signal: abort.signal };
    const closing = (server as ImapServer).close(options);
    if (how === 'signal') setTimeout(() => abort.abort(), 200);
    await within(5000, 'close', closing);
    await c.waitClosed();
  });
}

test('hooks: onConnect refuses, onAuth reports, onCommand authorizes per command, onClose follows', async (t) => {
  const auths: ImapAuthEvent[] = [];
  const commands: ImapCommandEvent[] = [];
  const closed: string[] = [];
  let refuseNext = false;
  const { port } = await start(t, {
    hooks: {
      onConnect: () => !refuseNext,
      onAuth: (e) => auths.push(e),
      onCommand: (e) => {
        commands.push(e);
        if (e.command === 'DELETE') throw ImapError.no('Deleting mailboxes is not allowed here', 'NOPERM');
      },
      onClose: (s) => closed.push(s.id),
    },
  });
  const c = new RawClient(port);
  t.after(() => c.destroy());
  await c.expect(/^\* OK/);
  c.send('L LOGIN alice wrong\r\n');
  await c.expect(/^L NO/);
  c.send('L LOGIN alice secret\r\n');
  await c.expect(/^L OK/);
  assert.deepEqual(auths.map((a) => [a.username, a.ok]), [['alice', false], ['alice', true]]);
  assert.match((await run(c, 'C', 'CREATE Box')).at(-1)!, /^C OK/);
  assert.match((await run(c, 'D', 'DELETE Box')).at(-1)!, /^D NO \[NOPERM\] Deleting mailboxes is not allowed here/);
  assert.ok(commands.some((e) => e.command === 'CREATE' && e.user === 'alice' && e.state === 'authenticated'));
  await run(c, 'Z', 'LOGOUT');
  await c.waitClosed();
  // The close is reported asynchronously: waited for (until's hang guard), not for a fixed second.
  await until('the close is reported', () => closed.length > 0);
  assert.equal(closed.length, 1);

  refuseNext = true;
  const refused = new RawClient(port);
  t.after(() => refused.destroy());
  await refused.expect(/^\* BYE Connection refused/);
  await refused.waitClosed();
});

test("a listener error reaches the 'error' event", async (t) => {
  const { server } = await start(t);
  const seen = new Promise<Error>((resolve) => server.once('error', resolve));
  // The socket server the listener runs on fails (EMFILE, for instance).
  (server as unknown as { netServers: import('node:net').Server[] }).netServers[0]!.emit('error', new Error('accept failed'));
  assert.equal((await within(2000, 'error event', seen)).message, 'accept failed');
});

test('alert() pushes * OK [ALERT] to a session now; disconnect(id) ends it with BYE', async (t) => {
  const { server, port } = await start(t);
  const c = await loggedIn(t, port);
  const [session] = server.connectionsForUser('alice');
  assert.equal(server.alert({ id: session!.id }, 'Maintenance at noon'), 1);
  await c.expect(/^\* OK \[ALERT\] Maintenance at noon/);
  assert.equal(server.disconnect(session!.id, { reason: 'Go away' }), true);
  await c.expect(/^\* BYE Go away/);
  await c.waitClosed();
  assert.equal(server.disconnect('no-such-id'), false);
});

test('any logger with child/debug/info/warn/error will do (not only pino)', async (t) => {
  const lines: Array<[string, unknown, string | undefined]> = [];
  const make = (bindings: Record<string, unknown>): import('../../src/index.js').Logger => ({
    child: (more) => make({ ...bindings, ...more }),
    debug: (obj, msg) => lines.push(['debug', { ...bindings, ...(obj as object) }, msg]),
    info: (obj, msg) => lines.push(['info', { ...bindings, ...(obj as object) }, msg]),
    warn: (obj, msg) => lines.push(['warn', { ...bindings, ...(obj as object) }, msg]),
    error: (obj, msg) => lines.push(['error', { ...bindings, ...(obj as object) }, msg]),
  });
  const { port } = await start(t, { logger: make({}) });
  const c = await loggedIn(t, port);
  await run(c, 'Z', 'LOGOUT');
  const auth = lines.find(([, , msg]) => msg === 'authenticated');
  assert.ok(auth, 'the login was logged');
  assert.equal((auth[1] as { protocol?: string; user?: string }).protocol, 'imap');
  assert.equal((auth[1] as { user?: string }).user, 'alice');
});

// postroom/testing under node:test, with imapflow as the client under test.
// Run: node --import tsx --test examples/testing/node-test.test.ts (test/testing/examples.test.ts does).
import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startTestServer, type TestServer } from 'postroom/testing';

let server: TestServer;
before(async () => {
  server = await startTestServer({ users: { alice: 'pw' }, messages: { alice: ['Subject: hi\r\n\r\nhello\r\n'] } });
});
beforeEach(() => server.reset());
after(() => server.close({ force: true }));

const connect = async (): Promise<ImapFlow> => {
  const client = new ImapFlow({ host: server.host, port: server.imapPort!, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'pw' }, logger: false });
  await client.connect();
  return client;
};

it('reads the preloaded message', async () => {
  const client = await connect();
  await client.mailboxOpen('INBOX');
  const message = await client.fetchOne('1', { envelope: true });
  assert.ok(message);
  assert.equal(message.envelope?.subject, 'hi');
  await client.logout();
});

it('sees a dropped connection', async () => {
  const client = await connect();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  server.faults.add({ command: 'NOOP', action: { type: 'drop' }, times: 1 });
  await client.noop().catch(() => undefined);
  await closed;
});

it('sees delivered mail', async () => {
  await server.deliver('alice', 'Subject: new\r\n\r\nnew\r\n');
  assert.equal((await server.waitFor({ user: 'alice', count: 2 })).length, 2);
});

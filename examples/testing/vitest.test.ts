// postroom/testing under vitest (npx vitest run). Type-checked in Postroom's CI, not run there.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { startTestServer, type TestServer } from 'postroom/testing';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ users: { alice: 'pw' } });
});
beforeEach(() => server.reset());
afterAll(() => server.close({ force: true }));

test('sees delivered mail', async () => {
  await server.deliver('alice', 'Subject: new\r\n\r\nnew\r\n');
  expect(await server.waitFor({ user: 'alice', count: 1 })).toHaveLength(1);
});

test('a slow server', async () => {
  server.faults.add({ command: 'FETCH', action: { type: 'delay', ms: [200, 800] } });
  server.faults.slowLiterals({ bytesPerSecond: 50_000 });
  // … connect your client to server.imapPort and check its timeout handling …
});

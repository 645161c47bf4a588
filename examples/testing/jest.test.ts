// postroom/testing under jest (ESM: node --experimental-vm-modules node_modules/.bin/jest).
// Type-checked in Postroom's CI, not run there. jest's globals (describe/test/expect) need no import.
import { startTestServer, type TestServer } from 'postroom/testing';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ users: { alice: 'pw' }, pop3: true });
});
beforeEach(() => server.reset());
afterAll(() => server.close({ force: true }));

test('refused logins', async () => {
  server.faults.refuseLogins();
  // … log in with your client on server.imapPort or server.pop3Port and expect a failure …
  server.faults.refuseLogins(false);
  expect(server.pop3Port).toBeGreaterThan(0);
});

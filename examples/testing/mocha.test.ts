// postroom/testing under mocha (npx mocha --loader=tsx examples/testing/mocha.test.ts).
// Type-checked in Postroom's CI, not run there. mocha's globals (describe/it/before…) need no import.
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from 'postroom/testing';

describe('my client', function () {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ users: { alice: 'pw' }, messages: { alice: ['Subject: a\r\n\r\na\r\n'] } });
  });
  beforeEach(() => server.reset());
  after(() => server.close({ force: true }));

  it('reselects after a UIDVALIDITY change', async () => {
    // … select INBOX with your client …
    const uidValidity = server.faults.changeUidValidity('alice');
    assert.ok(uidValidity > 0);
    // … expect your client to reconnect and resynchronise …
  });
});

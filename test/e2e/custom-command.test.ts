/**
 * server.addCommand(): a framework user's command goes through the same table, state checks,
 * parsing and error mapping as the built-ins (the example from docs/api.md).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { xcountCommand } from '../../examples/xcount-command.js';

describe('custom commands', () => {
  let server: TestServer;
  before(async () => {
    server = await startImapServer();
    server.server.addCommand(xcountCommand);
  });
  after(async () => server.close());

  it('advertises, checks state, parses, runs, and maps store errors for an added command', async () => {
    const c = new RawClient(server.port);
    try {
      assert.match(await c.expect(/^\* OK/), /XCOUNT/);
      c.send('a XCOUNT INBOX\r\n');
      assert.match(await c.expect(/^a /), /^a BAD XCOUNT is not allowed/);
      c.send('b LOGIN alice secret\r\n');
      await c.expect(/^b OK/);
      c.send('c APPEND INBOX {13+}\r\nSubject: a\r\n\r\n\r\n');
      await c.expect(/^c OK/);
      c.send('d XCOUNT INBOX\r\n');
      assert.equal(await c.expect(/^\* XCOUNT/), '* XCOUNT "INBOX" 1');
      assert.equal(await c.expect(/^d /), 'd OK counted');
      c.send('e XCOUNT INBOX extra\r\n');
      assert.match(await c.expect(/^e /), /^e BAD/);
      c.send('f XCOUNT Nope\r\n');
      assert.match(await c.expect(/^f /), /^f NO \[NONEXISTENT\]/);
    } finally {
      c.destroy();
    }
  });
});

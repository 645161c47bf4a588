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
    const { name: _name, ...rest } = xcountCommand;
    server.server.addCommand('XCOUNT2', rest);
  });
  after(async () => server.close());

  it('lists the capabilities a client sees, by state and TLS', () => {
    const before = server.server.capability();
    assert.ok(before.includes('XCOUNT') && before.includes('AUTH=PLAIN'));
    const plain = server.server.capability('notAuthenticated', { secure: false });
    assert.ok(plain.includes('STARTTLS'));
    const after = server.server.capability('authenticated');
    assert.ok(!after.some((c) => c.startsWith('AUTH=')) && after.includes('IDLE'));
  });

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
      c.send('g XCOUNT2 INBOX\r\n');
      assert.equal(await c.expect(/^g /), 'g OK counted', 'addCommand(name, spec) registers under the given name');
    } finally {
      c.destroy();
    }
  });
});

/**
 * The small pieces of IMAP Sieve: the flags a FLAG event reports (RFC 6785 §4.5), the URL serve
 * advertises (RFC 6785 §2.1, RFC 5804 §3), and the URLs createImapSieve refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedFlags } from '../../src/imap/message-events.js';
import { imapSieveUrl } from '../../src/cli/imapsieve.js';
import { createImapSieve } from '../../src/imapsieve/index.js';
import { DEFAULT_SETTINGS, type ServeSettings } from '../../src/config/settings.js';
import { MemoryStore } from '../../src/store/memory/index.js';

test('changedFlags: set and cleared flags, case-insensitively, never \\Recent', () => {
  assert.deepEqual(changedFlags(['\\Seen'], ['\\Seen', '\\Flagged']), ['\\Flagged']);
  assert.deepEqual(changedFlags(['\\Seen', '$Work'], ['\\Seen']), ['$Work']);
  assert.deepEqual(changedFlags(['$work'], ['$Work']), []);
  assert.deepEqual(changedFlags(['\\Recent'], ['\\Seen']), ['\\Seen']);
  assert.deepEqual(changedFlags(['\\Draft'], ['\\Answered']), ['\\Answered', '\\Draft']);
});

test('imapSieveUrl: the ManageSieve port of this serve (4190 left out), or the configured URL, or none', () => {
  const settings = (o: Partial<ServeSettings>): ServeSettings => ({ ...DEFAULT_SETTINGS, hostname: 'mail.example.com', ...o });
  assert.equal(imapSieveUrl(settings({}), 4190), 'sieve://mail.example.com');
  assert.equal(imapSieveUrl(settings({}), 14190), 'sieve://mail.example.com:14190');
  assert.equal(imapSieveUrl(settings({}), null), null);
  assert.equal(imapSieveUrl(settings({ imapSieveUrl: 'sieve://sieve.example.com' }), null), 'sieve://sieve.example.com');
});

test('createImapSieve refuses a URL that is not a sieveurl-server', () => {
  const store = new MemoryStore();
  for (const url of ['http://x', 'sieve://', 'sieve://host/script', 'sieve://host:port', 'sieve://a b']) {
    assert.throws(() => createImapSieve({ store, url }), /imapSieveUrl must be sieve:\/\/host/, url);
  }
  for (const url of ['sieve://localhost', 'sieve://mail.example.com:4190', 'sieve://[::1]:4190']) {
    const s = createImapSieve({ store, url });
    assert.deepEqual(s.capabilities, [`IMAPSIEVE=${url}`]);
    s.close();
  }
});

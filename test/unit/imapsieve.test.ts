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

test('maxEventMilliseconds: once one event has run that long, its other messages stay as stored (logged)', async () => {
  const store = new MemoryStore();
  const mail = await store.open('alice');
  const box = await mail.create('Slow');
  // A slow but successful run: a :matches that backtracks over a long subject, then a flag.
  const subject = 'a'.repeat(3000);
  await mail.sievePut!('slow', `require ["imap4flags"]; if header :matches "subject" "*a*a*a*a*a*b" { stop; } addflag "$Ran";`);
  await mail.setMetadata!(box.id, [{ entry: '/shared/imapsieve/script', value: Buffer.from('slow') }]);
  const uids: number[] = [];
  for (let i = 0; i < 3; i++) uids.push((await mail.append(box.id, { content: Buffer.from(`Subject: ${subject}\r\n\r\nbody ${i}\r\n`), flags: [] })).uid);
  const warnings: string[] = [];
  const logger = { warn: (_o: unknown, m: string) => warnings.push(m), child: () => logger, error: () => undefined, info: () => undefined, debug: () => undefined } as unknown as import('../../src/util/logger.js').Logger;
  const sieve = createImapSieve({ store, url: 'sieve://localhost', limits: { maxEventMilliseconds: 1 }, logger });
  try {
    assert.equal(await sieve.interested('alice', box.id), true);
    await sieve.onMessages({ cause: 'APPEND', user: 'alice', mailboxId: box.id, messages: uids.map((uid) => ({ uid })) });
    const flags = (await mail.records(box.id, uids)).map((r) => r.flags);
    assert.deepEqual(flags, [['$Ran'], [], []]);
    assert.equal(warnings.filter((w) => /maxEventMilliseconds/.test(w)).length, 1);
  } finally {
    sieve.close();
    await mail.close();
    await store.close();
  }
});

/**
 * The LIST memo's key (list.ts plainListKey) must tell apart any two LISTs, and a pattern may hold
 * NUL (modified UTF-7 "&AAA-" decodes to U+0000; a literal in UTF-8 mode). With parts joined by NUL,
 * `LIST (REMOTE) "" "INBOX&AAA-Sent"` (nothing) was kept under "extended\0a\0\0INBOX\0Sent", and
 * `LIST "" (INBOX Sent)` — the same key — was answered with nothing (found by review).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startImapServer } from '../helpers/imap-server.js';
import { loggedIn, run } from '../helpers/raw-client.js';

const listLines = (lines: string[]): string[] => lines.filter((l) => l.startsWith('* LIST'));

test('a LIST whose pattern holds NUL does not get the kept answer of another LIST', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rv13d-'));
  const store = await SqliteStore.open({ directory: dir });
  const srv = await startImapServer({ store });
  const a = await loggedIn(srv.port, 'alice', 'secret');
  try {
    await run(a, 'c', 'CREATE Sent');
    const fresh = listLines(await run(a, 'f', 'LIST (REMOTE) "" "INBOX&AAA-Sent"'));
    assert.deepEqual(fresh, [], 'nothing is named INBOX<NUL>Sent');
    const two = listLines(await run(a, 'l1', 'LIST "" (INBOX Sent)'));
    assert.equal(two.length, 2, 'LIST "" (INBOX Sent) names both');
    // Same key as the LIST just answered: "extended\0a\0\0INBOX\0Sent".
    assert.deepEqual(listLines(await run(a, 'l2', 'LIST (REMOTE) "" "INBOX&AAA-Sent"')), fresh);
  } finally {
    a.destroy();
    await srv.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

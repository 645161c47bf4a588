/**
 * The SQLite store is one process's (docs/architecture.md, "One process per data folder"): its
 * connection holds SQLite's exclusive POSIX lock on mail.sqlite. POSIX drops every lock a process
 * holds on a file when the process closes *any* descriptor of that file, so no code of the store may
 * open and close mail.sqlite while the connection is open — the startup header check and `postroom
 * check` once did, which let a second process (`postroom deliver` opening the store directly) write
 * beside the first and lose a delivery it had acknowledged.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('postroom-lock-');

/** Opens the store in another process; returns what it printed ("opened" or the error kind). */
function openElsewhere(directory: string): string {
  const script = `
    import { SqliteStore } from './src/store/sqlite/index.ts';
    try { const s = await SqliteStore.open({ directory: ${JSON.stringify(directory)} }); await s.close(); console.log('opened'); }
    catch (err) { console.log(err.kind ?? err.message); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return r.stdout.trim() || r.stderr.trim();
}

test('another process cannot open the store while it is open, also after a check read the file header', async () => {
  const directory = newDir();
  // A first open creates the database, so the second open runs the startup header check on a real file.
  await (await SqliteStore.open({ directory })).close();
  const store = await SqliteStore.open({ directory });
  try {
    const mail = await store.open('ann');
    const inbox = await mail.get('INBOX');
    await mail.append(inbox.id, { content: Buffer.from('Subject: one\r\n\r\nbody\r\n') });
    assert.equal(openElsewhere(directory), 'inuse', 'after open');
    const report = await store.check({ online: true });
    assert.equal(report.damaged, false);
    assert.equal(openElsewhere(directory), 'inuse', 'after an online check');
  } finally {
    await store.close();
  }
  assert.equal(openElsewhere(directory), 'opened', 'after close');
});

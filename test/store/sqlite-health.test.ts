/**
 * The SQLite store's failure handling below the protocols: a full disk is a 'nospace' StoreError
 * logged once per episode (and SELECT's \Recent claim degrades to a peek instead of failing); the
 * identity that ties blobs/ to its database decides whether the startup sweep may run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { isStoreError } from '../../src/store/errors.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { IDENTITY_FILE } from '../../src/store/sqlite/store-identity.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-sqlite-health-');

/** A pino logger whose lines land in `lines`. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const message = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`);

describe('SqliteStore on a full disk', () => {
  it("refuses writes as 'nospace', logs the episode once, peeks instead of claiming \\Recent, and logs the recovery once", async () => {
    const dir = tempDir();
    const { logger, lines } = capturingLogger();
    let full = false;
    const walSyncer = async (): Promise<void> => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC', syscall: 'fdatasync' });
    };
    // The folder's free space as a full disk would show it, while `full`.
    const freeBytes = (): number => (full ? 4096 : 1 << 30);
    const store = await SqliteStore.open({ directory: dir, logger, walSyncer, freeBytes, checkpoints: { intervalMs: 60_000 } });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    await u.append(inbox.id, { content: message(1) });

    full = true;
    for (let n = 2; n < 6; n++) {
      await assert.rejects(u.append(inbox.id, { content: message(n) }), (err: unknown) => isStoreError(err) && err.kind === 'nospace');
    }
    await assert.rejects(u.updateFlags(inbox.id, [1], 'add', ['\\Seen']), (err: unknown) => isStoreError(err) && err.kind === 'nospace');
    // The claim cannot be made durable: the session is told what a peek would tell it.
    const recentFrom = await u.claimRecent(inbox.id);
    assert.equal(recentFrom, 1);
    assert.equal(lines.filter((l) => String(l['msg']).startsWith('disk full')).length, 1, 'one line for the episode');
    assert.equal(store.health().diskFull?.refused, 6);
    // /readyz says so while the episode lasts (issue 13, item 8).
    assert.match((await store.readiness()) ?? '', /^disk full since .*: 6 writes refused/);

    full = false;
    // Room again but no write yet: ready, or a balancer that took the server out for the full
    // disk would never send the write that ends the episode.
    assert.equal(store.health().diskFull?.refused, 6);
    assert.equal(await store.readiness(), null);
    await u.append(inbox.id, { content: message(9) });
    await u.append(inbox.id, { content: message(10) });
    const recovered = lines.filter((l) => l['msg'] === 'disk space available again: writes succeed');
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]!['refused'], 6);
    assert.equal(store.health().diskFull, null);
    assert.equal(await store.readiness(), null);
    await store.close();
  });
});

describe('SqliteStore identity and the startup sweep', () => {
  const orphanIn = (dir: string): string => {
    mkdirSync(join(dir, 'blobs', 'cd'), { recursive: true });
    const path = join(dir, 'blobs', 'cd', 'cd'.padEnd(64, '1'));
    writeFileSync(path, 'left by a crash');
    return path;
  };
  const storeId = (dir: string): number => {
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    try {
      return (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: number }).value;
    } finally {
      db.close();
    }
  };

  it('a new store records one identity in the database and in blobs/', async () => {
    const dir = tempDir();
    await (await SqliteStore.open({ directory: dir })).close();
    const marker = readFileSync(join(dir, 'blobs', IDENTITY_FILE), 'latin1');
    assert.equal(Number(marker.split('\n')[0]), storeId(dir));
    // Opening again changes neither.
    await (await SqliteStore.open({ directory: dir })).close();
    assert.equal(readFileSync(join(dir, 'blobs', IDENTITY_FILE), 'latin1'), marker);
  });

  it('a database from before identities is adopted without a sweep; the next start sweeps', async () => {
    const dir = tempDir();
    await (await SqliteStore.open({ directory: dir })).close();
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    db.prepare("DELETE FROM meta WHERE key = 'store_id'").run();
    db.close();
    rmSync(join(dir, 'blobs', IDENTITY_FILE));
    const orphan = orphanIn(dir);
    const { logger, lines } = capturingLogger();
    await (await SqliteStore.open({ directory: dir, logger, limits: { orphanGraceMinutes: 0 } })).close();
    assert.ok(existsSync(orphan), 'not swept on the start that paired them');
    assert.ok(lines.some((l) => String(l['msg']).includes('had no identity marker')));
    assert.equal(Number(readFileSync(join(dir, 'blobs', IDENTITY_FILE), 'latin1').split('\n')[0]), storeId(dir));
    await (await SqliteStore.open({ directory: dir, limits: { orphanGraceMinutes: 0 } })).close();
    assert.equal(existsSync(orphan), false, 'swept once the pair is known');
  });

  it('a marker that went missing is written again, and nothing is swept that time', async () => {
    const dir = tempDir();
    await (await SqliteStore.open({ directory: dir })).close();
    const id = storeId(dir);
    rmSync(join(dir, 'blobs', IDENTITY_FILE));
    const orphan = orphanIn(dir);
    await (await SqliteStore.open({ directory: dir, limits: { orphanGraceMinutes: 0 } })).close();
    assert.ok(existsSync(orphan));
    assert.equal(storeId(dir), id, 'the database keeps its identity');
    assert.equal(Number(readFileSync(join(dir, 'blobs', IDENTITY_FILE), 'latin1').split('\n')[0]), id);
  });

  it('an unknown limit name is an error', async () => {
    await assert.rejects(SqliteStore.open({ directory: tempDir(), limits: { orphanGraceMinuts: 1 } as never }), /unknown SQLite store limit "orphanGraceMinuts"/);
  });
});

/**
 * The timing wrapper that `serve` puts around the store when metrics are on must not hide anything
 * the store offers: the IMAP server turns QUOTA, ACL, OBJECTID, METADATA… on from the store's
 * optional members, so a member the wrapper drops is an extension gone whenever metrics are on
 * (it dropped getQuota, setQuota, sharedMailboxes and messageExtras until this test).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { timedStore } from '../../src/metrics/store-timing.js';
import type { MailStore } from '../../src/store/types.js';

/** The member names of the MailStore interface, read from its source so a new one is checked too. */
async function mailStoreMembers(): Promise<string[]> {
  const source = await readFile(new URL('../../src/store/types.ts', import.meta.url), 'utf8');
  const start = source.indexOf('export interface MailStore {');
  const body = source.slice(start, source.indexOf('\n}', start));
  const names = [...body.matchAll(/^ {2}(?:readonly )?([a-zA-Z]+)\??[(:]/gm)].map((m) => m[1]!);
  return [...new Set(names)];
}

it('timedStore offers every MailStore member the store offers, with the same flags', async () => {
  const members = await mailStoreMembers();
  for (const expected of ['open', 'getQuota', 'sharedMailboxes', 'messageExtras', 'metadata', 'readiness']) assert.ok(members.includes(expected), `read ${expected} from types.ts`);
  const directory = await mkdtemp(join(tmpdir(), 'postroom-timing-'));
  const raw = await SqliteStore.open({ directory });
  try {
    const timed = timedStore(raw, () => undefined);
    const rawMembers = raw as unknown as Record<string, unknown>;
    const timedMembers = timed as unknown as Record<string, unknown>;
    let offered = 0;
    for (const name of members) {
      const value = rawMembers[name];
      if (value === undefined) continue;
      offered++;
      if (typeof value === 'function') assert.equal(typeof timedMembers[name], 'function', `${name} is forwarded`);
      else assert.equal(timedMembers[name], value, `${name} has the store's value`);
    }
    assert.ok(offered >= 10, `the SQLite store offers ${offered} members`);
    // And forwarded calls reach the store.
    const forwarded: MailStore = timed;
    assert.equal(await forwarded.readiness!(), null);
    assert.deepEqual(await forwarded.sharedMailboxes!('alice'), []);
  } finally {
    await raw.close();
    await rm(directory, { recursive: true, force: true });
  }
});

it('timedStore times messageHeads when the handle has it, and leaves it absent when not', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'postroom-timing-'));
  const raw = await SqliteStore.open({ directory });
  try {
    const seen: string[] = [];
    const timed = timedStore(raw, (operation) => seen.push(operation));
    const mail = await timed.open('alice');
    const inbox = await mail.get('INBOX');
    const { uid } = await mail.append(inbox.id, { content: Buffer.from('Subject: hi\r\n\r\nbody\r\n') });
    const heads = await mail.messageHeads!(inbox.id, [uid], { header: true });
    assert.deepEqual(heads.map((h) => [h.uid, h.header?.toString()]), [[uid, 'Subject: hi\r\n\r\n']]);
    assert.ok(seen.includes('messageHeads'), 'the call is timed');
    await mail.close();
    // A backend handle without the method: the wrapper adds none (callers use the fallback).
    const withoutHeads = Object.assign(Object.create(raw) as MailStore, {
      open: async (user: string) => Object.assign(Object.create(await raw.open(user)) as object, { messageHeads: undefined }),
    });
    const bare = timedStore(withoutHeads, () => undefined);
    const plain = await bare.open('alice');
    assert.equal(plain.messageHeads, undefined);
    await plain.close();
  } finally {
    await raw.close();
    await rm(directory, { recursive: true, force: true });
  }
});

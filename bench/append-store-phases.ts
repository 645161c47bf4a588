/**
 * `npx tsx bench/append-store-phases.ts [--size BYTES] [--count N] [--skip N]`
 *
 * One large APPEND's steps inside the SQLite store, in process (no IMAP, no strace): a fresh
 * SqliteStore in a temp folder, `count` APPENDs of `size` bytes (a base64 attachment; above 256 KiB
 * a body file) streamed in 64 KiB chunks with their size announced, as an IMAP literal reaches the
 * store. Per APPEND, ms from its start: the temp file's finish() called and returned (the last
 * write; its close), BlobFiles.install called, returned (the rename and both syncs under way when
 * it returns — the caller parses meanwhile) and done (the file's fdatasync and the folder's fsync),
 * and the APPEND done (transaction and WAL fdatasync). Prints p50/p90 over all but the first `skip`.
 * Wall clock: NOISY on a loaded machine. To compare two trees, copy this file into the other
 * tree's bench/ and run both in turn.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BlobFiles, TempBlob } from '../src/store/sqlite/blob-files.js';
import { sizedMessage } from './load/sized-message.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '330000' }, count: { type: 'string', default: '60' }, skip: { type: 'string', default: '10' } } });
const SIZE = Number(values.size);


const marks = new Map<string, number[]>();
let t0 = 0;
const mark = (k: string): void => {
  let list = marks.get(k);
  if (!list) marks.set(k, (list = []));
  list.push(performance.now() - t0);
};
const finish = TempBlob.prototype.finish;
TempBlob.prototype.finish = async function (this: TempBlob) {
  mark('finish called');
  const r = await finish.call(this);
  mark('finish returned');
  return r;
};
const install = BlobFiles.prototype.install;
BlobFiles.prototype.install = function (this: BlobFiles, ...args: Parameters<typeof install>) {
  mark('install called');
  const p = install.apply(this, args);
  mark('install returned');
  return p.then(() => mark('install done'));
};

const directory = await mkdtemp(join(tmpdir(), 'postroom-append-phases-'));
const store = await SqliteStore.open({ directory });
try {
  const user = await store.open('alice');
  const inbox = await user.get('INBOX');
  for (let i = 0; i < Number(values.count); i++) {
    const m = sizedMessage(i, SIZE);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let o = 0; o < m.length; o += 65536) yield m.subarray(o, o + 65536);
    }
    t0 = performance.now();
    await user.append(inbox.id, { content: Object.assign(chunks(), { size: m.length }) });
    mark('APPEND done');
  }
  await user.close();
} finally {
  await store.close();
  await rm(directory, { recursive: true, force: true });
}
const skip = Number(values.skip);
for (const [k, v] of marks) {
  const s = v.slice(skip).sort((a, b) => a - b);
  process.stdout.write(`${k.padEnd(16)} p50 ${s[s.length >> 1]!.toFixed(3)}  p90 ${s[Math.floor(s.length * 0.9)]!.toFixed(3)} ms\n`);
}

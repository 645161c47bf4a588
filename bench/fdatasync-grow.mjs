/**
 * `node bench/fdatasync-grow.mjs [--count N] [--kb K] [--pairs P]`: what an fdatasync costs when the
 * write before it made the file longer ("append") against one that overwrote blocks the file
 * already had ("prewritten": the file filled with zeros and synced first) — the case of a WAL that
 * grows after each start against one made long in advance (src/store/sqlite/wal-prefill.ts).
 * N writes of K KiB, each followed by fdatasync, in .bench-tmp/; the two kinds alternated P times.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, kb: { type: 'string', default: '64' }, pairs: { type: 'string', default: '3' } } });
const N = Number(values.count);
const chunk = Buffer.alloc(Number(values.kb) * 1024, 7);
const dir = join(process.cwd(), '.bench-tmp', 'fdatasync-grow');
mkdirSync(dir, { recursive: true });

function run(mode) {
  const file = join(dir, `file-${mode}`);
  rmSync(file, { force: true });
  const fd = openSync(file, 'w+');
  if (mode === 'prewritten') {
    const zeros = Buffer.alloc(1 << 20);
    for (let at = 0; at < N * chunk.length; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
    fdatasyncSync(fd);
  }
  const ms = [];
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    writeSync(fd, chunk, 0, chunk.length, i * chunk.length);
    fdatasyncSync(fd);
    ms.push(performance.now() - started);
  }
  closeSync(fd);
  rmSync(file);
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.floor(ms.length * p)].toFixed(2);
  return `${mode.padEnd(10)} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} mean ${(ms.reduce((a, b) => a + b) / N).toFixed(2)} ms`;
}
for (let p = 0; p < Number(values.pairs); p++) for (const mode of p % 2 ? ['prewritten', 'append'] : ['append', 'prewritten']) console.log(run(mode));

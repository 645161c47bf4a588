/**
 * `node --import tsx --import ./bench/sql-statement-cpu.ts bench/write-path.ts …` (or any script
 * that opens a SQLite store): process CPU spent in each SQL statement text, summed over the run and
 * printed to stderr at exit, most first. It wraps better-sqlite3's Statement run/get/all and
 * Database exec with process.cpuUsage() around each call, which adds ~2 µs per call (two
 * getrusage calls): small statements read high, so compare statements with each other, and builds
 * with each other, rather than taking one figure as exact. CPU of all threads is counted, so run
 * it with `--no-sync` to keep the WAL sync's system time out of the statements it overlaps.
 */
import { createRequire } from 'node:module';

interface Totals {
  n: number;
  us: number;
}
type Fn = (this: { source: string }, ...args: unknown[]) => unknown;

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { new (path: string): { prepare(sql: string): object }; prototype: Record<string, Fn> };
const proto = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<string, Fn>;
const stats = new Map<string, Totals>();

function timed(key: string, call: () => unknown): unknown {
  const before = process.cpuUsage();
  try {
    return call();
  } finally {
    const c = process.cpuUsage(before);
    const s = stats.get(key) ?? { n: 0, us: 0 };
    s.n++;
    s.us += c.user + c.system;
    stats.set(key, s);
  }
}

for (const method of ['run', 'get', 'all']) {
  const original = proto[method]!;
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    return timed(this.source, () => original.apply(this, args));
  };
}
const exec = Database.prototype.exec!;
Database.prototype.exec = function (this: { source: string }, sql: unknown) {
  return timed(`EXEC ${String(sql).slice(0, 60)}`, () => exec.call(this, sql));
};

process.on('exit', () => {
  const rows = [...stats].sort((a, b) => b[1].us - a[1].us).slice(0, 40);
  for (const [sql, s] of rows) {
    process.stderr.write(`${(s.us / 1000).toFixed(1).padStart(8)} ms ${String(s.n).padStart(7)} × ${(s.us / s.n).toFixed(1).padStart(7)} µs  ${sql.replace(/\s+/g, ' ').slice(0, 150)}\n`);
  }
});

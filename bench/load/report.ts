/** Text tables for the terminal and for RESULTS.md. */
import { merge, percentile, totals, type StatsTable } from './stats.js';

const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

export function loadTable(table: StatsTable, seconds: number): string {
  const rows = ['| command | ok | errors | per s | p50 ms | p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const [cmd, s] of Object.entries(table).sort()) {
    rows.push(`| ${cmd} | ${s.ok} | ${s.errors} | ${f(s.ok / seconds)} | ${f(percentile(s, 0.5), 2)} | ${f(percentile(s, 0.99), 2)} |`);
  }
  const t = totals(table);
  const all = merge(Object.values(table).map((v) => ({ all: v })))['all'];
  const p = (q: number): string => (all ? f(percentile(all, q), 2) : '–');
  rows.push(`| **all** | ${t.ok} | ${t.errors} | ${f(t.ok / seconds)} | ${p(0.5)} | ${p(0.99)} |`);
  const errors = Object.entries(table).flatMap(([cmd, s]) => s.samples.map((m) => `  ${cmd}: ${m}`));
  return rows.join('\n') + (errors.length ? `\n\nfirst errors:\n${errors.join('\n')}` : '');
}

/** Postroom and Dovecot side by side, with the ratio Postroom/Dovecot (throughput >1 and latency <1 favour Postroom). */
export function sideBySide(a: { table: StatsTable; seconds: number }, b: { table: StatsTable; seconds: number }, names = ['Postroom', 'Dovecot']): string {
  const rows = [
    `| command | ${names[0]} /s | ${names[1]} /s | ratio | ${names[0]} p50 | ${names[1]} p50 | ${names[0]} p99 | ${names[1]} p99 | p99 ratio | errors |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const cmds = [...new Set([...Object.keys(a.table), ...Object.keys(b.table)])].sort();
  const zero = { ok: 0, errors: 0, hist: {}, totalUs: 0, samples: [] };
  for (const cmd of cmds) {
    const x = a.table[cmd] ?? zero;
    const y = b.table[cmd] ?? zero;
    const rx = x.ok / a.seconds;
    const ry = y.ok / b.seconds;
    const px = percentile(x, 0.99);
    const py = percentile(y, 0.99);
    rows.push(
      `| ${cmd} | ${f(rx)} | ${f(ry)} | ${f(rx / ry, 2)} | ${f(percentile(x, 0.5), 2)} | ${f(percentile(y, 0.5), 2)} | ${f(px, 2)} | ${f(py, 2)} | ${f(px / py, 2)} | ${x.errors}/${y.errors} |`,
    );
  }
  const ta = totals(a.table);
  const tb = totals(b.table);
  rows.push(`| **all** | ${f(ta.ok / a.seconds)} | ${f(tb.ok / b.seconds)} | ${f(ta.ok / a.seconds / (tb.ok / b.seconds), 2)} | | | | | | ${ta.errors}/${tb.errors} |`);
  return rows.join('\n');
}

/** One row per server: all commands together, and the ratio of its throughput to each reference. */
export function summary(rows: { name: string; table: StatsTable; seconds: number }[], references: string[]): string {
  const rate = (r: { table: StatsTable; seconds: number }): number => totals(r.table).ok / r.seconds;
  const refs = references.map((n) => rows.find((r) => r.name === n)).filter((r) => r !== undefined);
  const out = [
    `| server | commands/s | ${refs.map((r) => `vs ${r.name}`).join(' | ')} | p50 ms (all) | p99 ms (all) | errors |`,
    `| --- | ---: | ${refs.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
  ];
  for (const r of rows) {
    const one = merge(Object.values(r.table).map((v) => ({ all: v })))['all'];
    const t = totals(r.table);
    out.push(
      `| ${r.name} | ${f(rate(r))} | ${refs.map((x) => f(rate(r) / rate(x), 2)).join(' | ')} | ${one ? f(percentile(one, 0.5), 2) : '–'} | ${one ? f(percentile(one, 0.99), 2) : '–'} | ${t.errors} |`,
    );
  }
  return out.join('\n');
}

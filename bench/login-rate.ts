/**
 * The login-rate scenario of bench:vs-dovecot (`--only login-rate`): logins per second over implicit
 * TLS (the default setup), `concurrency` clients at a time, each login a fresh connection with
 * LOGIN and LOGOUT.
 * - cold: every login a user and password the server has not seen since it started, so every one
 *   costs a full password hash (Postroom: scrypt N = 2^15, its default; Dovecot: its default scheme);
 * - warm: the same users and passwords once more, so a credential cache can answer them
 *   (Postroom's authCache, on by default; Dovecot's auth_cache, which the caller turns on).
 * Each round takes a fresh slice of users, so its cold logins are cold on every server without a restart.
 */
import { merge, percentile, totals, type StatsTable } from './load/stats.js';
import { runLoginRate } from './login/run.js';
import type { RunningServer } from './servers/postroom.js';

export interface LoginUser {
  user: string;
  password: string;
}

/** `perRound` users for each of `rounds` rounds, each with a password of its own. */
export function loginUsers(perRound: number, rounds: number): LoginUser[][] {
  return Array.from({ length: rounds }, (_, r) =>
    Array.from({ length: perRound }, (_, i) => ({ user: `login${r}x${i}`, password: `pw-${r}-${i}-${((r * 7919 + i * 104_729) % 1_000_003).toString(36)}` })),
  );
}

export interface LoginServer {
  label: string;
  /** The password scheme and cache, as the report names them. */
  scheme: string;
  cache: string;
  running: RunningServer;
}

export interface LoginRow {
  label: string;
  scheme: string;
  cache: string;
  cold: { table: StatsTable; seconds: number };
  warm: { table: StatsTable; seconds: number };
}

export interface LoginRateOptions {
  servers: LoginServer[];
  users: LoginUser[][];
  concurrency: number;
  workers: number;
  /** Progress lines (stderr in the bench). */
  progress?: (line: string) => void;
}

const add = (a: { table: StatsTable; seconds: number }[]): { table: StatsTable; seconds: number } => ({
  table: merge(a.map((x) => x.table)),
  seconds: a.reduce((n, x) => n + x.seconds, 0),
});

/** Rounds in turn (A B C A B C…): each server cold on the round's users, then warm on the same users. */
export async function loginRate(o: LoginRateOptions): Promise<LoginRow[]> {
  const cold = o.servers.map(() => [] as { table: StatsTable; seconds: number }[]);
  const warm = o.servers.map(() => [] as { table: StatsTable; seconds: number }[]);
  for (const [round, logins] of o.users.entries()) {
    for (const [i, s] of o.servers.entries()) {
      if (s.running.tlsPort === undefined) throw new Error(`${s.label} has no TLS port`);
      const run = { host: '127.0.0.1', port: s.running.tlsPort, tls: true, logins, concurrency: o.concurrency, workers: o.workers };
      o.progress?.(`  login-rate: ${s.label} round ${round + 1}/${o.users.length}, cold`);
      cold[i]!.push(await runLoginRate(run));
      o.progress?.(`  login-rate: ${s.label} round ${round + 1}/${o.users.length}, warm`);
      warm[i]!.push(await runLoginRate(run));
    }
  }
  return o.servers.map((s, i) => ({ label: s.label, scheme: s.scheme, cache: s.cache, cold: add(cold[i]!), warm: add(warm[i]!) }));
}

const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
const rate = (x: { table: StatsTable; seconds: number }): number => (x.table['login']?.ok ?? 0) / x.seconds;
const p = (x: { table: StatsTable }, q: number): number => (x.table['login'] ? percentile(x.table['login'], q) : Number.NaN);

/** Logins/s cold and warm per server, with each ratio to `reference`, and the errors. */
export function loginReport(rows: LoginRow[], reference: string): string {
  const ref = rows.find((r) => r.label === reference);
  const out = [
    `| server | password scheme | credential cache | cold logins/s | warm logins/s | warm/cold | cold vs ${reference} | warm vs ${reference} | cold p50 / p99 ms | warm p50 / p99 ms | logins ok (cold + warm) | errors |`,
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const errors = totals(r.cold.table).errors + totals(r.warm.table).errors;
    out.push(
      `| ${r.label} | ${r.scheme} | ${r.cache} | ${f(rate(r.cold))} | ${f(rate(r.warm))} | ${f(rate(r.warm) / rate(r.cold), 2)} | ` +
        `${ref ? f(rate(r.cold) / rate(ref.cold), 2) : '–'} | ${ref ? f(rate(r.warm) / rate(ref.warm), 2) : '–'} | ` +
        `${f(p(r.cold, 0.5))} / ${f(p(r.cold, 0.99))} | ${f(p(r.warm, 0.5))} / ${f(p(r.warm, 0.99))} | ` +
        `${r.cold.table['login']?.ok ?? 0} + ${r.warm.table['login']?.ok ?? 0} | ${errors} |`,
    );
  }
  const phaseErrors = (label: string, phase: string, t: StatsTable): string[] =>
    Object.entries(t).flatMap(([cmd, s]) => s.samples.map((m) => `  ${label} ${phase} ${cmd}: ${m}`));
  const samples = rows.flatMap((r) => [...phaseErrors(r.label, 'cold', r.cold.table), ...phaseErrors(r.label, 'warm', r.warm.table)]);
  return out.join('\n') + (samples.length ? `\n\nfirst errors:\n${samples.join('\n')}` : '');
}

/**
 * What one login of the login-rate bench is: a fresh connection (implicit TLS when asked), the
 * greeting, LOGIN with the user's own password, LOGOUT — timed as a whole (`login`) and per step.
 */
import { WireClient } from '../load/wire-client.js';
import { CheckError, expectOk } from '../load/checks.js';
import type { Recorder } from '../load/stats.js';

export interface LoginConfig {
  host: string;
  port: number;
  tls: boolean;
  /** Done once each, in order, `concurrency` at a time. */
  logins: { user: string; password: string }[];
  concurrency: number;
}

/** IMAP quoted string (the bench's passwords have no CR, LF or NUL). */
const quoted = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

async function timed<T>(rec: Recorder, name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    const v = await run();
    rec.ok(name, performance.now() - t0);
    return v;
  } catch (err) {
    rec.error(name, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

async function oneLogin(cfg: LoginConfig, login: { user: string; password: string }, rec: Recorder): Promise<void> {
  let client: WireClient | undefined;
  try {
    await timed(rec, 'login', async () => {
      const { client: c, greeting } = await timed(rec, 'CONNECT', () => WireClient.connect(cfg.host, cfg.port, 60_000, { tls: cfg.tls }));
      client = c;
      if (!greeting.text.startsWith('* OK')) throw new CheckError(`greeting: ${greeting.text}`);
      await timed(rec, 'LOGIN', async () => expectOk(await c.command(`LOGIN ${quoted(login.user)} ${quoted(login.password)}`, 120_000), 'LOGIN'));
      await timed(rec, 'LOGOUT', async () => {
        const done = await c.command('LOGOUT');
        expectOk(done, 'LOGOUT');
        if (!done.untagged.some((u) => u.text.startsWith('* BYE'))) throw new CheckError('LOGOUT without BYE');
      });
    });
  } catch {
    // Counted by timed(); the next login goes on.
  } finally {
    client?.close();
  }
}

/** Every login of the list once, at most `concurrency` at a time. */
export async function runLogins(cfg: LoginConfig, rec: Recorder): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cfg.logins.length) await oneLogin(cfg, cfg.logins[next++]!, rec);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(cfg.concurrency, cfg.logins.length)) }, lane));
}

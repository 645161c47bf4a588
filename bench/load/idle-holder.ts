/** Opens many connections that LOGIN, SELECT INBOX and sit in IDLE until told to stop. */
import { WireClient } from './wire-client.js';
import { expectOk } from './checks.js';
import type { LoadConfig } from './scenario.js';
import type { Recorder } from './stats.js';

export class IdleHolder {
  private readonly held: { client: WireClient; tag: string; notified: boolean }[] = [];

  constructor(
    private readonly cfg: LoadConfig,
    private readonly rec: Recorder,
  ) {}

  get count(): number {
    return this.held.length;
  }

  get notified(): number {
    return this.held.filter((h) => h.notified).length;
  }

  private async openOne(index: number): Promise<void> {
    const user = this.cfg.users[index % this.cfg.users.length]!;
    const t0 = performance.now();
    let client: WireClient | undefined;
    try {
      const c = await WireClient.connect(this.cfg.host, this.cfg.port, 120_000, { tls: this.cfg.tls === true });
      client = c.client;
      expectOk(await client.command(`LOGIN ${user} ${this.cfg.password}`, 120_000), 'LOGIN');
      expectOk(await client.command('SELECT INBOX', 120_000), 'SELECT');
      const tag = client.nextTag();
      client.write(`${tag} IDLE\r\n`);
      const r = await client.next(120_000);
      if (!r.text.startsWith('+')) throw new Error(`IDLE: ${r.text}`);
      const entry = { client, tag, notified: false };
      client.onUntagged = (u) => {
        if (/^\* \d+ EXISTS$/i.test(u.text)) entry.notified = true;
      };
      this.held.push(entry);
      this.rec.ok('LOGIN+SELECT+IDLE', performance.now() - t0);
    } catch (err) {
      client?.close();
      this.rec.error('LOGIN+SELECT+IDLE', err instanceof Error ? err.message : String(err));
    }
  }

  async open(): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < this.cfg.clients) await this.openOne(this.cfg.firstClient + next++);
    };
    await Promise.all(Array.from({ length: Math.min(this.cfg.connectConcurrency, this.cfg.clients) }, lane));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.held.map(async (h) => {
        const t0 = performance.now();
        try {
          h.client.onUntagged = null;
          h.client.write('DONE\r\n');
          expectOk(await h.client.complete(h.tag, 120_000), 'DONE');
          this.rec.ok('DONE', performance.now() - t0);
        } catch (err) {
          this.rec.error('DONE', err instanceof Error ? err.message : String(err));
        }
        h.client.close();
      }),
    );
  }
}

/**
 * A login-rate generator process. The parent forks it with a LoginConfig (JSON in argv[2]), waits
 * for {type:'ready'}, sends {type:'go'}, and gets back {type:'done', table, startedAt, endedAt}:
 * every login of the list done once, `concurrency` at a time, each on a fresh connection
 * (connect — implicit TLS when asked —, greeting, LOGIN, LOGOUT).
 */
import { Recorder } from '../load/stats.js';
import { runLogins, type LoginConfig } from './client.js';

const cfg = JSON.parse(process.argv[2]!) as LoginConfig;
const send = (m: object): Promise<void> => new Promise((resolve) => process.send!(m, () => resolve()));

async function main(): Promise<void> {
  const go = new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === 'go' && resolve()));
  await send({ type: 'ready' });
  await go;
  const rec = new Recorder();
  const startedAt = performance.timeOrigin + performance.now();
  await runLogins(cfg, rec);
  const endedAt = performance.timeOrigin + performance.now();
  await send({ type: 'done', table: rec.table, startedAt, endedAt });
  process.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(`login worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

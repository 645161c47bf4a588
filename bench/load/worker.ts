/**
 * A load-generator process. The parent forks it with a LoadConfig (JSON in argv[2]) and gets back,
 * over IPC: {type:'holding', count} (idle scenario, once all connections sit in IDLE) and
 * {type:'done', table, notified}. For the idle scenario the parent sends {type:'stop'} to end it.
 */
import { ClientLoop } from './client-loop.js';
import { IdleHolder } from './idle-holder.js';
import { Recorder } from './stats.js';
import type { LoadConfig } from './scenario.js';
import { writeClientTrace } from './trace.js';

const cfg = JSON.parse(process.argv[2]!) as LoadConfig;
const rec = new Recorder();
const send = (m: object): Promise<void> => new Promise((resolve) => process.send!(m, () => resolve()));

async function main(): Promise<void> {
  if (cfg.scenario === 'idle') {
    const holder = new IdleHolder(cfg, rec);
    await holder.open();
    const stopped = new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === 'stop' && resolve()));
    await send({ type: 'holding', count: holder.count });
    await stopped;
    const notified = holder.notified;
    await holder.close();
    await send({ type: 'done', table: rec.table, notified });
  } else {
    const deadline = Date.now() + cfg.seconds * 1000;
    await Promise.all(Array.from({ length: cfg.clients }, (_, i) => new ClientLoop(cfg, cfg.firstClient + i, rec, deadline).run()));
    writeClientTrace();
    await send({ type: 'done', table: rec.table, notified: 0 });
  }
  process.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(`load worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * `node --expose-gc --import tsx bench/tls-idle-probe.ts [--n 1000] [--records postroom|openssl] [--hibernate 1] [--concurrency 50]
 *   [--hold S] [--snapshots DIR]`
 * Where a hibernated TLS session's memory goes, in one process: an IMAP server (memory store) in
 * this process, N clients in a child process that LOGIN and IDLE over implicit TLS; this process's
 * RSS, V8 heap and external memory before, once all are parked, and after a full GC (--expose-gc).
 * `--concurrency`: handshakes (connections being opened) at a time from the client; the one-time
 * growth of the server's heap and malloc arenas follows how many are in flight at once.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startImapServer } from '../test/helpers/imap-server.js';
import { testCertificate } from '../test/helpers/certs.js';
import { takeoverCounts } from '../src/net/tls13/takeover.js';

if (process.argv[2] === 'client') {
  const tls = await import('node:tls');
  const [port, n, at] = [Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 50)];
  let held = 0;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      let buf = '';
      let step = 0;
      s.setEncoding('latin1');
      s.on('error', () => resolve());
      s.on('data', (d: string) => {
        buf += d;
        if (step === 0 && buf.includes('* OK')) (step = 1), s.write('a LOGIN alice secret\r\n');
        else if (step === 1 && buf.includes('a OK')) (step = 2), s.write('c IDLE\r\n');
        else if (step === 2 && buf.includes('+ ')) (step = 3), held++, resolve();
      });
    });
  for (let i = 0; i < n; i += at) await Promise.all(Array.from({ length: Math.min(at, n - i) }, open));
  process.send!({ held });
  setInterval(() => undefined, 1000);
} else {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '1000' }, records: { type: 'string', default: 'postroom' }, hibernate: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '50' }, hold: { type: 'string', default: '0' }, watch: { type: 'string', default: '0' }, snapshots: { type: 'string' } } });
  const n = Number(values.n);
  const cert = await testCertificate();
  const s = await startImapServer({ tls: { ...cert, records: values.records as 'postroom' | 'openssl' }, limits: { idleHibernateSeconds: Number(values.hibernate), maxConnectionsPerIp: 0, maxConnectionsPerUser: 0, maxConnections: 0 } });
  const gc = (globalThis as { gc?: () => void }).gc;
  const mem = (): string => {
    gc?.();
    const m = process.memoryUsage();
    // Anonymous (private) memory apart from the file-backed pages of node's binary, which RSS counts in full.
    const roll = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const field = (name: string): string => (Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(roll)?.[1] ?? 0) / 1024).toFixed(1);
    return `pss_anon ${field('Pss_Anon')} MB, pss_file ${field('Pss_File')} MB, rss ${(m.rss / 1048576).toFixed(1)} MB, heapTotal ${(m.heapTotal / 1048576).toFixed(1)} MB, heapUsed ${(m.heapUsed / 1048576).toFixed(1)} MB, external ${(m.external / 1048576).toFixed(1)} MB`;
  };
  // --snapshots DIR: a heap snapshot before the clients and one with all parked (after a full GC),
  // to count what each parked connection keeps by constructor (compare them in DevTools).
  const snap = async (name: string): Promise<void> => {
    if (!values.snapshots) return;
    const { writeHeapSnapshot } = await import('node:v8');
    writeHeapSnapshot(`${values.snapshots}/${name}.heapsnapshot`);
  };
  console.log('before:', mem());
  // Read after mem()'s full GC, as the readings it is compared with are.
  const before = process.memoryUsage();
  await snap('before');
  const child = fork(new URL(import.meta.url).pathname, ['client', String(s.tlsPort), String(n), values.concurrency!], { execArgv: ['--import', 'tsx'] });
  const held = await new Promise<number>((r) => child.once('message', (m: { held: number }) => r(m.held)));
  if (Number(values.watch) > 0) {
    // --watch S: no forced GC — what the process keeps on its own as it sits idle, every 10 s for S s
    // (V8 gives its heap back only when its memory reducer sees the process idle).
    const roll = (): string => {
      const r = readFileSync('/proc/self/smaps_rollup', 'utf8');
      const m = process.memoryUsage();
      return `pss_anon ${(Number(/^Pss_Anon:\s+(\d+)/m.exec(r)?.[1] ?? 0) / 1024).toFixed(1)} MB, heapTotal ${(m.heapTotal / 1048576).toFixed(1)} MB, heapUsed ${(m.heapUsed / 1048576).toFixed(1)} MB`;
    };
    for (let t = 0; t <= Number(values.watch); t += 10) {
      console.log(`t=${t}s ${roll()}`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
  await new Promise((r) => setTimeout(r, Number(values.hibernate) * 1000 + 3000));
  const after = process.memoryUsage();
  await new Promise((r) => setTimeout(r, 500)); gc?.(); await new Promise((r) => setTimeout(r, 500)); gc?.();
  console.log(`held ${held}, parked ${s.server.hibernation?.size ?? 0}, takeovers ${JSON.stringify(takeoverCounts)}`);
  console.log('after: ', mem());
  await snap('parked');
  const per = (k: 'rss' | 'heapUsed' | 'external'): string => ((process.memoryUsage()[k] - before[k]) / n / 1024).toFixed(1);
  console.log(`per connection after GC: rss ${per('rss')} KB, heap ${per('heapUsed')} KB, external ${per('external')} KB (before GC rss ${((after.rss - before.rss) / n / 1024).toFixed(1)} KB)`);
  if (Number(values.hold) > 0) {
    // Time to look at the process from outside (gdb: malloc_stats(), malloc_trim(0); /proc/PID/smaps).
    console.log(`holding ${values.hold} s, pid ${process.pid}`);
    await new Promise((r) => setTimeout(r, Number(values.hold) * 1000));
    console.log('after hold:', mem());
  }
  child.kill();
  await new Promise((r) => setTimeout(r, 2000));
  console.log(`all clients gone (parked ${s.server.hibernation?.size ?? 0}):`, mem());
  if (process.env.PROBE_AGAIN) {
    // The same again: does the memory of the first batch get reused (retained by the allocator) or grow (kept)?
    const again = fork(new URL(import.meta.url).pathname, ['client', String(s.tlsPort), String(n), values.concurrency!], { execArgv: ['--import', 'tsx'] });
    await new Promise<number>((r) => again.once('message', (m: { held: number }) => r(m.held)));
    await new Promise((r) => setTimeout(r, Number(values.hibernate) * 1000 + 3000));
    console.log(`second batch held (parked ${s.server.hibernation?.size ?? 0}):`, mem());
    again.kill();
  }
  await s.close();
  process.exit(0);
}

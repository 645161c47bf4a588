/**
 * `npx tsx bench/metrics-micro.ts`: CPU time per instrumentation call, measured with
 * process.cpuUsage() (user+system time of this process, so other processes' load counts less than
 * in wall-clock figures): a command as the servers report it, a chunk's bytes, a timed store call
 * (against a store method that does nothing), and prom-client's own labelled Counter.inc +
 * Histogram.observe for comparison.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { Metrics } from '../src/metrics/prometheus.js';
import { timedStore } from '../src/metrics/store-timing.js';
import type { MailStore, UserMailbox } from '../src/store/types.js';

const N = 2_000_000;
const NAMES = ['FETCH', 'UID FETCH', 'STORE', 'APPEND', 'NOOP', 'SELECT', 'IDLE', 'STATUS'];

function cpuNsPerCall(label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < 10_000; i++) fn(i); // warm up the JIT
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(start);
  process.stdout.write(`${label.padEnd(52)} ${(((used.user + used.system) * 1000) / n).toFixed(0).padStart(6)} ns\n`);
}

async function cpuNsPerAsyncCall(label: string, n: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 10_000; i++) await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  process.stdout.write(`${label.padEnd(52)} ${(((used.user + used.system) * 1000) / n).toFixed(0).padStart(6)} ns\n`);
}

const imap = new Metrics({ processMetrics: false }).protocol('imap');
cpuNsPerCall('metrics.command(name, result, seconds)', N, (i) => imap.command(NAMES[i & 7]!, 'ok', (i & 1023) / 100_000));
cpuNsPerCall('metrics.bytesIn(n)', N, (i) => imap.bytesIn(i & 4095));

const registry = new Registry();
const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['protocol', 'command', 'result'], registers: [registry] });
const hist = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['protocol', 'command'], registers: [registry] });
cpuNsPerCall("prom-client labelled Counter.inc + Histogram.observe", N / 4, (i) => {
  counter.inc({ protocol: 'imap', command: NAMES[i & 7]!, result: 'ok' });
  hist.observe({ protocol: 'imap', command: NAMES[i & 7]! }, (i & 1023) / 100_000);
});

const nothing = async (): Promise<number[]> => [];
const fakeMailbox = { user: 'u', expunge: nothing, close: async () => undefined, stream: () => (async function* () {})() } as unknown as UserMailbox;
for (const m of ['list', 'create', 'delete', 'rename', 'subscribe', 'subscriptions', 'get', 'status', 'snapshot', 'claimRecent', 'records', 'structure', 'read', 'search', 'append', 'updateFlags', 'copy', 'move']) {
  (fakeMailbox as unknown as Record<string, unknown>)[m] = nothing;
}
const fakeStore: MailStore = { delimiter: '/', open: async () => fakeMailbox, watch: () => () => undefined, close: async () => undefined };
const timed = await timedStore(fakeStore, new Metrics({ processMetrics: false }).store).open('u');
await cpuNsPerAsyncCall('an awaited store call that does nothing, plain', N / 4, () => fakeMailbox.expunge('1'));
await cpuNsPerAsyncCall('the same call through timedStore', N / 4, () => timed.expunge('1'));

/**
 * The Postroom process under test: SqliteStore, the users file, createImapServer on loopback —
 * what `postroom serve --store sqlite` runs, with the connection limits raised for the load
 * (serve has no flags for them) and no TLS, like the Dovecot side — or, with POSTROOM_BENCH_TLS_CERT and
 * POSTROOM_BENCH_TLS_KEY (PEM files), an implicit-TLS port beside the plain one.
 * argv: DATA_DIR MAX_CONNECTIONS [IDLE_HIBERNATE_SECONDS]. Prints {"msg":"listening","imapPort":…,"tlsPort":…,"pid":…}.
 */
import { SERVE_SYNC_THREADS_AT_OPEN, SERVE_WAL_PREFILL_MEGABYTES } from '../../src/store/sqlite/limits.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { createImapServer } from '../../src/imap/server.js';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Metrics } from '../../src/metrics/prometheus.js';
import { timedStore } from '../../src/metrics/store-timing.js';
import { LoginGuard } from '../../src/auth/login-guard.js';
import type { ProtocolMetrics } from '../../src/metrics/types.js';
import { openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { TailRecorder } from './tails.js';
import inspector from 'node:inspector';
import { takeoverCounts } from '../../src/net/tls13/takeover.js';
import { applyGcScheduling } from '../../src/cli/node-flags.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';

// POSTROOM_BENCH_METRICS=1: count as `serve --metrics-port` does (commands, logins, bytes, store and
// WAL timings), to measure what the instrumentation costs (bench/metrics-ab.ts).
// POSTROOM_BENCH_METRICS=counters: the same without Node's process metrics (event-loop lag monitor, GC observer).
const metrics = process.env.POSTROOM_BENCH_METRICS ? new Metrics({ processMetrics: process.env.POSTROOM_BENCH_METRICS !== 'counters' }) : undefined;

// POSTROOM_BENCH_LOOP_DELAY=1: report the event loop's delay (what every queued command waits) at exit.
const loopDelay = process.env.POSTROOM_BENCH_LOOP_DELAY ? monitorEventLoopDelay({ resolution: 5 }) : undefined;
loopDelay?.enable();

// POSTROOM_BENCH_STALLS=1: count the loop's stalls over 20 ms and garbage collections over 10 ms,
// reported at exit, to tell what a latency tail is made of.
const stalls = { count: 0, ms: 0, worst: [] as number[], gcCount: 0, gcMs: 0, gcWorst: 0 };
const eluStart = performance.eventLoopUtilization();
if (process.env.POSTROOM_BENCH_STALLS) {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - 5;
    last = now;
    if (late > 20) {
      stalls.count++;
      stalls.ms += late;
      stalls.worst = [...stalls.worst, late].sort((a, b) => b - a).slice(0, 5);
    }
  }, 5).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration > 10) {
        stalls.gcCount++;
        stalls.gcMs += e.duration;
        stalls.gcWorst = Math.max(stalls.gcWorst, e.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
}

// POSTROOM_BENCH_WRITES=FILE: count the write() calls made on sockets (each is one write(2) of a
// plain socket) and keep the running total in FILE (every 200 ms), for writes per command.
if (process.env.POSTROOM_BENCH_WRITES) {
  const file = process.env.POSTROOM_BENCH_WRITES;
  const { Socket: NetSocket } = await import('node:net');
  const original = NetSocket.prototype.write;
  let writes = 0;
  NetSocket.prototype.write = function (this: Socket, ...args: unknown[]) {
    writes++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  // One pwrite of a fixed-width number over the same bytes: a reader sees the old or the new total,
  // never an empty file. (It used to be written aside and renamed every 200 ms: a rename on the
  // busy disk blocked the event loop for milliseconds — 1.3 % of the busy main thread in a profile
  // under imaptest, 2026-12-05 — and that was counted as Postroom's time.)
  const fd = openSync(file, 'w');
  setInterval(() => writeSync(fd, String(writes).padStart(20), 0), 200).unref();
}

// SIGUSR2: print what the process's memory is made of (V8 heap used and held, native) to stderr.
// The hibernated count is asked of the server once it exists: a signal while the store is still
// opening used to kill the process (`server` read before its declaration ran).
let hibernatedSessions = (): number => 0;
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  process.stderr.write(`memory MB (pid ${process.pid}): rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}; hibernated sessions ${hibernatedSessions()}; TLS records after the handshake by Postroom ${takeoverCounts.postroom}, by OpenSSL ${takeoverCounts.openssl}\n`);
});

// POSTROOM_BENCH_COMMAND_TIMES=1: the server's own time per command (parsed to tagged reply),
// median and p90 per command at exit — to tell the server's share of a round trip from the rest.
const commandTimes = process.env.POSTROOM_BENCH_COMMAND_TIMES ? new Map<string, number[]>() : undefined;
const timesOnly: ProtocolMetrics | undefined = commandTimes && {
  connectionOpened() {},
  connectionRefused() {},
  command(name, _result, seconds) {
    let list = commandTimes.get(name);
    if (!list) commandTimes.set(name, (list = []));
    list.push(seconds * 1000);
  },
  login() {},
  bytesIn() {},
  bytesOut() {},
  tlsHandshake() {},
};

// POSTROOM_BENCH_TAILS=1: where each command's time inside the server goes, and what its slowest
// 1 % overlapped (GC, checkpoint, WAL sync, a blocked loop), at exit (tails.ts).
const tails = process.env.POSTROOM_BENCH_TAILS ? new TailRecorder() : undefined;

// serve's scheduling of young-generation GCs (v8MinorGcTask, src/cli/node-flags.ts), as startServers
// applies it; POSTROOM_BENCH_MINOR_GC_TASK=1 gives node's own (scavenges as tasks between commands).
applyGcScheduling({ v8MinorGcTask: process.env.POSTROOM_BENCH_MINOR_GC_TASK === '1' || DEFAULT_SETTINGS.v8MinorGcTask });

// POSTROOM_BENCH_HEAP_PROF=FILE: V8's sampling heap profiler over the whole run, counting objects a
// scavenge or mark-compact already freed too — where the allocation that drives GC comes from (read
// it with bench/heap-prof-summary.ts). Started on SIGWINCH (after a warm-up) if
// POSTROOM_BENCH_HEAP_PROF_ON_SIGNAL is set, else at once.
const heapProfFile = process.env.POSTROOM_BENCH_HEAP_PROF;
const heapSession = heapProfFile ? new inspector.Session() : undefined;
const inspectorPost = (method: string, params?: object): Promise<unknown> =>
  new Promise((resolve, reject) => heapSession!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
if (heapSession) {
  heapSession.connect();
  const start = (): void => void inspectorPost('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  if (process.env.POSTROOM_BENCH_HEAP_PROF_ON_SIGNAL) process.once('SIGWINCH', start);
  else start();
}

const [data, max, hibernate] = [process.argv[2]!, Number(process.argv[3] ?? 20_000), process.argv[4]];
const tlsFiles = process.env.POSTROOM_BENCH_TLS_CERT && process.env.POSTROOM_BENCH_TLS_KEY ? { cert: process.env.POSTROOM_BENCH_TLS_CERT, key: process.env.POSTROOM_BENCH_TLS_KEY } : null;
// serve's store limits (src/cli/components.ts): the WAL made long at start, every fsync thread started at open.
// (serve's start-up warm-up, src/cli/warm-up.ts, is not run here: the benches warm up for seconds themselves.)
const store = await SqliteStore.open({
  directory: data,
  limits: { walPrefillMegabytes: SERVE_WAL_PREFILL_MEGABYTES, syncThreadsAtOpen: SERVE_SYNC_THREADS_AT_OPEN },
  ...(metrics ? { timings: metrics.sqlite } : tails ? { timings: tails.timings } : {}),
});
const loginGuard = new LoginGuard();
loginGuard.observer = metrics?.loginGuard;
const server = createImapServer({
  store: metrics ? timedStore(store, metrics.store) : store,
  loginGuard,
  ...(metrics ? { metrics: metrics.protocol('imap') } : tails ? { metrics: tails.metrics } : timesOnly ? { metrics: timesOnly } : {}),
  auth: new UserFileAuthenticator(UserFile.inDataDir(data)),
  host: '127.0.0.1',
  port: 0,
  ...(tlsFiles ? { tlsPort: 0, tls: { cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key) } } : { tlsPort: null }),
  allowInsecureAuth: true,
  acceptHandles: 16, // as serve does
  limits: {
    maxConnections: max,
    maxConnectionsPerIp: max,
    maxConnectionsPerUser: max,
    ...(hibernate ? { idleHibernateSeconds: Number(hibernate) } : {}),
  },
});
hibernatedSessions = () => server.hibernation?.size ?? 0;
const bound = await server.listen();
// POSTROOM_BENCH_UNIX=PATH: plain IMAP on a UNIX socket too, for bench/tls-offload-probe.ts (a TLS
// terminator in another process); a bench-only door into the server's private accept().
if (process.env.POSTROOM_BENCH_UNIX) {
  const door = server as unknown as { accept(socket: Socket, secure: boolean): void };
  await new Promise<void>((resolve) => createNetServer((socket) => door.accept(socket, false)).listen(process.env.POSTROOM_BENCH_UNIX, resolve));
}
process.stdout.write(`${JSON.stringify({ msg: 'listening', imapPort: bound.port, ...(bound.tlsPort ? { tlsPort: bound.tlsPort } : {}), pid: process.pid })}\n`);
const stop = (): void => {
  if (heapSession) {
    void inspectorPost('HeapProfiler.stopSampling').then((res) => {
      writeFileSync(heapProfFile!, JSON.stringify((res as { profile: object }).profile));
      heapSession.disconnect();
      finish();
    }, finish);
    return;
  }
  finish();
};
const finish = (): void => {
  if (loopDelay) {
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    process.stderr.write(`event loop delay ms: p50 ${ms(loopDelay.percentile(50))} p90 ${ms(loopDelay.percentile(90))} p99 ${ms(loopDelay.percentile(99))} max ${ms(loopDelay.max)}\n`);
  }
  for (const [name, list] of commandTimes ?? []) {
    list.sort((a, b) => a - b);
    const at = (q: number): string => list[Math.min(list.length - 1, Math.floor(list.length * q))]!.toFixed(3);
    process.stderr.write(`server time ms ${name}: n ${list.length} p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)}\n`);
  }
  if (tails) process.stderr.write(`${tails.report()}\n`);
  if (tails && process.env.POSTROOM_BENCH_TRACE_DIR) writeFileSync(join(process.env.POSTROOM_BENCH_TRACE_DIR, `server-${process.pid}.json`), JSON.stringify(tails.trace()));
  if (process.env.POSTROOM_BENCH_STALLS) {
    const r = (n: number): string => n.toFixed(0);
    process.stderr.write(
      `event loop utilization since start: ${(performance.eventLoopUtilization(eluStart).utilization * 100).toFixed(0)} %; ` +
      `stalls over 20 ms: ${stalls.count} (${r(stalls.ms)} ms in all; worst ${stalls.worst.map(r).join(', ')}); ` +
        `GC over 10 ms: ${stalls.gcCount} (${r(stalls.gcMs)} ms; worst ${r(stalls.gcWorst)})\n`,
    );
  }
  void server
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

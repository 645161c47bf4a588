/**
 * The Prometheus side of the hooks in types.ts: one `Metrics` per process, handed to every server
 * (`createImapServer({ metrics: m.protocol('imap') })`), the login guard, the store wrapper and the
 * SQLite store; `text()` renders the exposition format for /metrics. docs/operations.md lists every
 * metric. LMTP and `postroom deliver` report through `protocol('lmtp')` and `deliveries`.
 */
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { lazyRequire } from '../util/lazy-require.js';

/** prom-client loads when the first Metrics is made, not at `import 'postroom'`. */
const promClient = lazyRequire<typeof import('prom-client')>('prom-client');
import { CounterFamily, HistogramFamily, LATENCY_BUCKETS, type CounterSeries, type HistogramSeries } from './series.js';
import type {
  CommandResult,
  DeliveryMetrics,
  DeliveryResult,
  LoginGuardObserver,
  LoginResult,
  ProtocolMetrics,
  ProtocolName,
  RefusalReason,
  SqliteTimings,
  StoreObserver,
  TlsKind,
} from './types.js';

/** Sessions open right now by state, counted when /metrics is scraped (nothing on the hot path). */
export type SessionCounter = () => Iterable<{ state: string; count: number }>;

const DURABILITY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const DELAY_BUCKETS = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8];

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC) under their usual names (default true). */
  processMetrics?: boolean;
  /** Static labels on every series, e.g. `{ instance: 'mx1' }`. */
  labels?: Record<string, string>;
}

export class Metrics {
  readonly registry: Registry = new (promClient().Registry)();
  readonly commands: CounterFamily;
  readonly commandSeconds: HistogramFamily;
  readonly connections: CounterFamily;
  readonly refused: CounterFamily;
  readonly logins: CounterFamily;
  readonly bytesReceived: CounterFamily;
  readonly bytesSent: CounterFamily;
  readonly tls: CounterFamily;
  readonly guardDelays: HistogramFamily;
  readonly guardLockouts: CounterFamily;
  readonly guardRefused: CounterFamily;
  readonly storeSeconds: HistogramFamily;
  readonly storeErrors: CounterFamily;
  readonly walSyncSeconds: HistogramFamily;
  readonly checkpointSeconds: HistogramFamily;
  readonly deliveries: CounterFamily;
  readonly deliverySeconds: HistogramFamily;
  private readonly sessionCounters = new Map<ProtocolName, SessionCounter>();
  private readonly protocols = new Map<ProtocolName, ProtocolMetrics>();

  constructor(options: MetricsOptions = {}) {
    const r = this.registry;
    if (options.labels) r.setDefaultLabels(options.labels);
    const p = 'postroom_';
    this.connections = new CounterFamily(`${p}connections_total`, 'Connections accepted', ['protocol']).register(r);
    this.refused = new CounterFamily(`${p}connections_refused_total`, 'Connections refused before a session started (a limit, or shutdown)', ['protocol', 'reason']).register(r);
    this.commands = new CounterFamily(`${p}commands_total`, 'Commands completed, by name and result (ok, no, bad, bye)', ['protocol', 'command', 'result']).register(r);
    this.commandSeconds = new HistogramFamily(`${p}command_duration_seconds`, 'Time from a complete command to its final reply', ['protocol', 'command'], LATENCY_BUCKETS).register(r);
    this.logins = new CounterFamily(`${p}logins_total`, 'Login attempts by result (success, failure, locked, limit) and mechanism', ['protocol', 'mechanism', 'result']).register(r);
    this.bytesReceived = new CounterFamily(`${p}received_bytes_total`, 'Application bytes read from clients (after TLS)', ['protocol']).register(r);
    this.bytesSent = new CounterFamily(`${p}sent_bytes_total`, 'Application bytes written to clients (before TLS)', ['protocol']).register(r);
    this.tls = new CounterFamily(`${p}tls_handshakes_total`, 'TLS handshakes by kind (implicit, starttls) and result (ok, failed)', ['protocol', 'kind', 'result']).register(r);
    this.guardDelays = new HistogramFamily(`${p}login_guard_delay_seconds`, 'Delays the login guard put before answering failed logins', [], DELAY_BUCKETS).register(r);
    this.guardLockouts = new CounterFamily(`${p}login_guard_lockouts_total`, 'Lockouts started, by scope (pair: address and user; address; user)', ['scope']).register(r);
    this.guardRefused = new CounterFamily(`${p}login_guard_refused_total`, 'Login attempts refused because of a lockout', []).register(r);
    this.storeSeconds = new HistogramFamily(`${p}store_operation_duration_seconds`, 'Mail store calls, by operation', ['operation'], LATENCY_BUCKETS).register(r);
    this.storeErrors = new CounterFamily(`${p}store_operation_errors_total`, 'Mail store calls that failed, by operation', ['operation']).register(r);
    this.walSyncSeconds = new HistogramFamily(`${p}sqlite_wal_sync_seconds`, "A write's wait for the fdatasync of the SQLite WAL", [], DURABILITY_BUCKETS).register(r);
    this.checkpointSeconds = new HistogramFamily(`${p}sqlite_checkpoint_seconds`, 'SQLite WAL checkpoints (writes are held during one)', [], DURABILITY_BUCKETS).register(r);
    this.deliveries = new CounterFamily(`${p}deliveries_total`, 'Messages delivered per recipient, by result (delivered, rejected, deferred)', ['result']).register(r);
    this.deliverySeconds = new HistogramFamily(`${p}delivery_duration_seconds`, 'Time to deliver one message to one recipient', [], LATENCY_BUCKETS).register(r);
    const counters = this.sessionCounters;
    new (promClient().Gauge)({
      name: `${p}sessions`,
      help: 'Open sessions by protocol and state (IMAP: not_authenticated, authenticated, selected, hibernated; POP3: authorization, transaction)',
      labelNames: ['protocol', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const [protocol, count] of counters) for (const { state, count: n } of count()) this.inc({ protocol, state }, n);
      },
    });
    new (promClient().Gauge)({ name: `${p}build_info`, help: 'Always 1; the version in a label', labelNames: ['version'], registers: [r], aggregator: 'first' }).set({ version: VERSION }, 1);
    if (options.processMetrics !== false) promClient().collectDefaultMetrics({ register: r });
  }

  /** The hooks for one protocol's servers (the same object each time). */
  protocol(name: ProtocolName): ProtocolMetrics {
    let m = this.protocols.get(name);
    if (!m) {
      m = new PrometheusProtocolMetrics(this, name);
      this.protocols.set(name, m);
    }
    return m;
  }

  /** Reports the sessions of `protocol` at each scrape (the servers' connections() lists). */
  countSessions(protocol: ProtocolName, counter: SessionCounter): void {
    this.sessionCounters.set(protocol, counter);
  }

  readonly loginGuard: LoginGuardObserver = {
    delayed: (ms) => this.guardDelays.series().observe(ms / 1000),
    lockedOut: (scope) => this.guardLockouts.series(scope).inc(),
    refused: () => this.guardRefused.series().inc(),
  };

  readonly store: StoreObserver = (operation, seconds, ok) => {
    this.storeSeconds.series(operation).observe(seconds);
    if (!ok) this.storeErrors.series(operation).inc();
  };

  readonly sqlite: SqliteTimings = {
    walSync: (seconds) => this.walSyncSeconds.series().observe(seconds),
    checkpoint: (seconds) => this.checkpointSeconds.series().observe(seconds),
  };

  readonly delivery: DeliveryMetrics = {
    delivery: (result: DeliveryResult, seconds: number) => {
      this.deliveries.series(result).inc();
      this.deliverySeconds.series().observe(seconds);
    },
  };

  contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of this process. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** ../../package.json from both src/metrics/ and dist/metrics/. */
const VERSION = ((): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

/** Mechanism names become a label, so what a client may send is cut down to the ones that exist. */
const MECHANISMS = new Set(['USER', 'LOGIN', 'PLAIN', 'APOP', 'CRAM-MD5', 'SCRAM-SHA-256', 'OAUTHBEARER', 'XOAUTH2', 'EXTERNAL', 'ANONYMOUS']);

/** Series are looked up once per label set and kept, so a command costs two additions and a bucket search. */
class PrometheusProtocolMetrics implements ProtocolMetrics {
  private readonly perCommand = new Map<string, { seconds: HistogramSeries; results: Partial<Record<CommandResult, CounterSeries>> }>();
  private readonly opened: CounterSeries;
  private readonly received: CounterSeries;
  private readonly sent: CounterSeries;

  constructor(
    private readonly m: Metrics,
    private readonly protocol: ProtocolName,
  ) {
    this.opened = m.connections.series(protocol);
    this.received = m.bytesReceived.series(protocol);
    this.sent = m.bytesSent.series(protocol);
  }

  connectionOpened(): void {
    this.opened.value++;
  }

  connectionRefused(reason: RefusalReason): void {
    this.m.refused.series(this.protocol, reason).inc();
  }

  command(name: string, result: CommandResult, seconds: number): void {
    let c = this.perCommand.get(name);
    if (!c) {
      c = { seconds: this.m.commandSeconds.series(this.protocol, name), results: {} };
      this.perCommand.set(name, c);
    }
    (c.results[result] ??= this.m.commands.series(this.protocol, name, result)).value++;
    c.seconds.observe(seconds);
  }

  login(result: LoginResult, mechanism: string): void {
    this.m.logins.series(this.protocol, MECHANISMS.has(mechanism) ? mechanism : 'other', result).inc();
  }

  bytesIn(n: number): void {
    this.received.value += n;
  }

  bytesOut(n: number): void {
    this.sent.value += n;
  }

  tlsHandshake(kind: TlsKind, ok: boolean): void {
    this.m.tls.series(this.protocol, kind, ok ? 'ok' : 'failed').inc();
  }
}

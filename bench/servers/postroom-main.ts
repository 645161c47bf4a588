/**
 * The Postroom process under test: SqliteStore, the users file, createImapServer on loopback —
 * what `postroom serve --store sqlite` runs, with the connection limits raised for the load
 * (serve has no flags for them) and no TLS, like the Dovecot side.
 * argv: DATA_DIR MAX_CONNECTIONS [IDLE_HIBERNATE_SECONDS]. Prints {"msg":"listening","imapPort":…,"pid":…}.
 */
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { createImapServer } from '../../src/imap/server.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// POSTROOM_BENCH_LOOP_DELAY=1: report the event loop's delay (what every queued command waits) at exit.
const loopDelay = process.env.POSTROOM_BENCH_LOOP_DELAY ? monitorEventLoopDelay({ resolution: 5 }) : undefined;
loopDelay?.enable();

const [data, max, hibernate] = [process.argv[2]!, Number(process.argv[3] ?? 20_000), process.argv[4]];
const store = await SqliteStore.open({ directory: data });
const server = createImapServer({
  store,
  auth: new UserFileAuthenticator(UserFile.inDataDir(data)),
  host: '127.0.0.1',
  port: 0,
  tlsPort: null,
  allowInsecureAuth: true,
  acceptHandles: 4, // as serve does
  limits: {
    maxConnections: max,
    maxConnectionsPerIp: max,
    maxConnectionsPerUser: max,
    ...(hibernate ? { idleHibernateSeconds: Number(hibernate) } : {}),
  },
});
const bound = await server.listen();
process.stdout.write(`${JSON.stringify({ msg: 'listening', imapPort: bound.port, pid: process.pid })}\n`);
const stop = (): void => {
  if (loopDelay) {
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    process.stderr.write(`event loop delay ms: p50 ${ms(loopDelay.percentile(50))} p90 ${ms(loopDelay.percentile(90))} p99 ${ms(loopDelay.percentile(99))} max ${ms(loopDelay.max)}\n`);
  }
  void server
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * `npx tsx bench/tls-records-cpu.ts [--trips 20000] [--reply 400] [--rounds 3]`
 * Server CPU per request/response over TLS 1.3: OpenSSL's records (a TLSSocket) against Postroom's
 * (src/net/tls13/); and over TLS 1.2, a TLSSocket on the TCP socket against one over the handshake
 * tap (what a connection OpenSSL keeps costs with `tlsRecords: 'postroom'`); alternating, each round a fresh connection from a client in another process
 * that sends a 30-byte line and waits for a `--reply`-byte answer, `--trips` times. CPU is this
 * process's (user + system) over the round, so other load on the machine shows less than in
 * wall-clock rates.
 */
import net from 'node:net';
import tls from 'node:tls';
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { testCertificate } from '../test/helpers/certs.js';
import { createSecureContext, upgradeToTls, type TlsRecords } from '../src/net/tls.js';

if (process.argv[2] === 'client') {
  const [port, trips] = [Number(process.argv[3]), Number(process.argv[4])];
  const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(process.argv[5] === '1.2' ? { maxVersion: 'TLSv1.2' as const } : {}) });
  let left = trips;
  c.on('data', () => {
    if (--left > 0) c.write('a NOOP padding padding pad\r\n');
    else c.end();
  });
  c.once('secureConnect', () => c.write('a NOOP padding padding pad\r\n'));
  c.on('close', () => process.exit(0));
} else {
  const { values } = parseArgs({ options: { trips: { type: 'string', default: '20000' }, reply: { type: 'string', default: '400' }, rounds: { type: 'string', default: '3' } } });
  const cert = await testCertificate();
  const context = createSecureContext(cert);
  const reply = Buffer.from(`${'* 1 FETCH (FLAGS (\\Seen))\r\n'.repeat(Math.ceil(Number(values.reply) / 28))}`.slice(0, Number(values.reply)));
  // The TLS 1.2 pair shows what keeping the TLSSocket over the handshake tap costs (what switching
  // only at hibernation would have cost every awake connection): 'tap' is a TLSSocket over the tap.
  type Mode = TlsRecords | 'direct-1.2' | 'tap-1.2';
  const MODES: Mode[] = process.env.TLS_CPU_MODES ? (process.env.TLS_CPU_MODES.split(',') as Mode[]) : ['openssl', 'postroom', 'direct-1.2', 'tap-1.2'];
  let mode: Mode = 'openssl';
  const server = net.createServer(async (raw) => {
    raw.on('error', () => undefined);
    const s = await upgradeToTls(raw, context, 5000, mode === 'postroom' || mode === 'tap-1.2' ? 'postroom' : 'openssl');
    s.on('error', () => undefined);
    s.on('data', () => s.write(reply));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const results: Record<Mode, number[]> = { openssl: [], postroom: [], 'direct-1.2': [], 'tap-1.2': [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const m of MODES) {
      mode = m;
      const child = fork(new URL(import.meta.url).pathname, ['client', String(port), values.trips!, m.endsWith('1.2') ? '1.2' : '1.3'], { execArgv: ['--import', 'tsx'] });
      // The handshake is not counted: the client's first line comes after it; start at the first data.
      const start = process.cpuUsage();
      await new Promise((r) => child.once('exit', r));
      const used = process.cpuUsage(start);
      results[m].push(((used.user + used.system) / Number(values.trips)));
    }
  }
  for (const m of MODES) console.log(`${m}: µs of server CPU per round trip: ${results[m].map((x) => x.toFixed(1)).join(', ')}`);
  server.close();
}

/**
 * A measuring probe, not a product feature: a process that terminates implicit TLS and pipes each
 * connection's plaintext to Postroom over a UNIX socket (postroom-main.ts's POSTROOM_BENCH_UNIX),
 * so bench/tls-cost.ts (`--only offload`) can tell how much of the main process's CPU moving TLS
 * out of it would save, and what the extra hop costs in all (issue 23).
 * argv: UNIX_PATH CERT_FILE KEY_FILE. Prints {"port":N} once listening on loopback.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [path, cert, key] = process.argv.slice(2) as [string, string, string];
const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, (secure) => {
  secure.setNoDelay(true);
  const plain = net.connect(path);
  const end = (): void => {
    secure.destroy();
    plain.destroy();
  };
  secure.on('error', end);
  plain.on('error', end);
  secure.on('close', end);
  plain.on('close', end);
  secure.pipe(plain);
  plain.pipe(secure);
});
server.on('tlsClientError', () => undefined);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`));
process.on('SIGTERM', () => process.exit(0));

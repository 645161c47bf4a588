/**
 * `npx tsx bench/stress/serve.ts [--users 100] [--workers 1] [--connections 1000]`: starts the
 * stress server (server.ts) and keeps it running until Ctrl-C / SIGTERM, printing its port — for
 * pointing another checker (Dovecot's imaptest, by hand) at the same setup.
 */
import { parseArgs } from 'node:util';
import { STRESS_PASSWORD, startStressServer } from './server.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100' },
    workers: { type: 'string', default: '1' },
    connections: { type: 'string', default: '1000' },
  },
});
const server = await startStressServer({
  users: Number(values.users),
  workers: Number(values.workers),
  maxConnections: Number(values.connections),
});
process.stdout.write(`${JSON.stringify({ msg: 'listening', imapPort: server.port, pid: server.pid, users: `stress1..stress${values.users}`, password: STRESS_PASSWORD })}\n`);
const stop = (): void => {
  void server.stop().then((code) => {
    for (const line of server.log.filter((l) => /"level":(40|50|60)/.test(l)).slice(0, 50)) process.stderr.write(`${line}\n`);
    process.exit(code ?? 0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

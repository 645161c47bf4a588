/**
 * One client process of bench/idle-scale.ts: opens `count` IMAP connections (plaintext, or implicit TLS) from one
 * loopback source address (each address has its own ephemeral-port range), each LOGIN, SELECT
 * INBOX, IDLE; reports when all are held (or failed); then counts the sessions that hear
 * `* n EXISTS`, and when. Deliberately small per connection (a socket, a state, a line buffer) so
 * that 12,500 of them fit one process under the open-file limit without the client's memory
 * mattering. Driven over IPC by the parent:
 *   argv[2]: JSON ClientConfig; parent → child: {t:'mark'} (the delivery starts now), {t:'report'}, {t:'stop'};
 *   child → parent: {t:'held', held, failed, errors}, {t:'report', notified, delaysMs}, exits 0 after 'stop'.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ClientConfig {
  host: string;
  port: number;
  localAddress: string;
  count: number;
  /** Index of this process's first connection among all (picks the user: users[i % users.length]). */
  first: number;
  users: string[];
  password: string;
  /** Connections being set up at once. */
  concurrency: number;
  timeoutMs: number;
  /** Implicit TLS (the server's certificate is not checked). */
  tls?: boolean;
}

type State = 'greeting' | 'login' | 'select' | 'idle' | 'held' | 'failed';

interface Conn {
  index: number;
  socket: net.Socket;
  state: State;
  buf: string;
  /** ms after the mark when EXISTS arrived (−1: not yet). */
  heardAt: number;
}

const cfg = JSON.parse(process.argv[2]!) as ClientConfig;
const conns: Conn[] = [];
let held = 0;
let failed = 0;
const errors = new Map<string, number>();
let markAt = -1;

const fail = (c: Conn, why: string): void => {
  if (c.state === 'failed' || c.state === 'held') return;
  c.state = 'failed';
  failed++;
  errors.set(why, (errors.get(why) ?? 0) + 1);
  c.socket.destroy();
};

function onLine(c: Conn, line: string): void {
  switch (c.state) {
    case 'greeting':
      if (!line.startsWith('* OK')) return fail(c, `greeting: ${line.slice(0, 60)}`);
      c.state = 'login';
      c.socket.write(`a LOGIN ${cfg.users[(cfg.first + c.index) % cfg.users.length]} ${cfg.password}\r\n`);
      return;
    case 'login':
      if (line.startsWith('* ')) return;
      if (!line.startsWith('a OK')) return fail(c, `LOGIN: ${line.slice(0, 60)}`);
      c.state = 'select';
      c.socket.write('b SELECT INBOX\r\n');
      return;
    case 'select':
      if (line.startsWith('* ')) return;
      if (!line.startsWith('b OK')) return fail(c, `SELECT: ${line.slice(0, 60)}`);
      c.state = 'idle';
      c.socket.write('c IDLE\r\n');
      return;
    case 'idle':
      if (!line.startsWith('+')) return fail(c, `IDLE: ${line.slice(0, 60)}`);
      c.state = 'held';
      held++;
      return;
    case 'held':
      if (c.heardAt < 0 && markAt >= 0 && /^\* \d+ EXISTS$/.test(line)) c.heardAt = performance.now() - markAt;
      return;
    case 'failed':
      return;
  }
}

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    const target = { host: cfg.host, port: cfg.port, localAddress: cfg.localAddress };
    const socket = cfg.tls ? tls.connect({ ...target, rejectUnauthorized: false }) : net.connect(target);
    const c: Conn = { index, socket, state: 'greeting', buf: '', heardAt: -1 };
    conns[index] = c;
    const timer = setTimeout(() => fail(c, 'timeout'), cfg.timeoutMs);
    const done = (): void => {
      if (c.state === 'held' || c.state === 'failed') {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      c.buf += d;
      for (let nl = c.buf.indexOf('\r\n'); nl >= 0; nl = c.buf.indexOf('\r\n')) {
        const line = c.buf.slice(0, nl);
        c.buf = c.buf.slice(nl + 2);
        onLine(c, line);
      }
      done();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (fail(c, e.code ?? e.message), done()));
    socket.on('close', () => {
      if (c.state !== 'held') fail(c, 'closed');
      done();
    });
  });
}

async function openAll(): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cfg.count) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.count) }, lane));
}

process.on('message', (m: { t: string }) => {
  if (m.t === 'mark') markAt = performance.now();
  else if (m.t === 'report') {
    const delaysMs = conns.filter((c) => c.heardAt >= 0).map((c) => Math.round(c.heardAt));
    process.send!({ t: 'report', notified: delaysMs.length, delaysMs });
  } else if (m.t === 'stop') {
    for (const c of conns) c?.socket.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

await openAll();
process.send!({ t: 'held', held, failed, errors: Object.fromEntries(errors) });

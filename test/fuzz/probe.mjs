// The bystander of the live fuzz run, in a process of its own (plain JavaScript: it starts in a
// blink and shares no event loop with the load generator or the server): a logged-in IMAP client
// that sends NOOP every INTERVAL ms and times each reply. On IPC { type: 'stop' } it answers
// { type: 'samples', wall: [ms, …], server: [ms, …] } and exits.
//
// `wall` is the round trip as the client sees it. `server` is that minus the time the server's
// event-loop thread, and this probe's, spent runnable but not running (waiting for a CPU that other
// processes held, from the kernel's /proc/PID/task/TID/schedstat): what the server itself made the
// client wait. The two waits hardly overlap: the probe sleeps until the reply arrives, so it can
// only wait for a CPU after the server has answered. On a machine shared with other work, only
// the second figure says something about the server.
//
//   node test/fuzz/probe.mjs PORT USER PASSWORD INTERVAL_MS SERVER_PID
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [port, user, password, interval, serverPid] = process.argv.slice(2);
/** Nanoseconds the main thread of process `pid` has waited on a run queue, or null where unknown. */
function runqueueWait(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return null;
  }
}
/** Both waits together: the server's and this probe's. */
function waited() {
  const server = runqueueWait(serverPid);
  const own = runqueueWait(process.pid);
  return server === null || own === null ? null : server + own;
}
const socket = net.connect(Number(port), '127.0.0.1');
socket.setNoDelay(true);
socket.setEncoding('latin1');
let buffer = '';
let waiting = null;
socket.on('data', (d) => {
  buffer += d;
  let nl;
  while ((nl = buffer.indexOf('\r\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 2);
    if (waiting && line.startsWith(waiting.tag + ' ')) {
      const w = waiting;
      waiting = null;
      w.resolve(line);
    }
  }
});
socket.on('error', () => undefined);
socket.on('close', () => waiting?.resolve(null));

/** Sends a command and resolves with its tagged reply (null if the connection closed). */
function command(tag, text) {
  return new Promise((resolve) => {
    waiting = { tag, resolve };
    socket.write(`${tag} ${text}\r\n`);
  });
}

const samples = [];
const serverSamples = [];
let running = true;
process.on('message', (message) => {
  if (message?.type === 'stop') running = false;
});

await new Promise((resolve) => socket.once('connect', resolve));
const login = await command('L', `LOGIN ${user} ${password}`);
if (!login?.startsWith('L OK')) {
  process.send?.({ type: 'samples', wall: samples, server: serverSamples, error: `login failed: ${login}` });
  process.exit(1);
}
for (let n = 0; running; n++) {
  const waitedBefore = waited();
  const started = performance.now();
  const reply = await command(`p${n}`, 'NOOP');
  const wall = performance.now() - started;
  const waitedAfter = waited();
  if (reply === null) {
    process.send?.({ type: 'samples', wall: samples, server: serverSamples, error: 'connection closed' });
    process.exit(1);
  }
  samples.push(wall);
  const starved = waitedBefore !== null && waitedAfter !== null ? (waitedAfter - waitedBefore) / 1e6 : 0;
  serverSamples.push(Math.max(0, wall - starved));
  await new Promise((r) => setTimeout(r, Number(interval)));
}
process.send?.({ type: 'samples', wall: samples, server: serverSamples }, () => process.exit(0));

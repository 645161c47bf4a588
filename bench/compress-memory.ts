/**
 * Memory per idle COMPRESS=DEFLATE session (RFC 4978), awake and hibernated, beside plain idle
 * sessions: the server runs in this process (memory store), N clients in a child process LOGIN,
 * optionally COMPRESS, SELECT INBOX and IDLE; the server's RSS (after a GC) is taken before and
 * after. Usage: tsx --expose-gc bench/compress-memory.ts [N=300]
 * Figures on a shared machine are noisy; RSS includes what zlib allocates outside the JS heap.
 */
import { spawn } from 'node:child_process';
import { startImapServer } from '../test/helpers/imap-server.js';

const N = Number(process.argv[2] ?? 300);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The client side, in its own process so its memory does not count. */
const CLIENT = `
const net = require('node:net'); const zlib = require('node:zlib');
const [port, n, compress] = process.argv.slice(1).map(Number);
let ready = 0; const held = [];
function one() { return new Promise((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1'); held.push(s); let buf = ''; let step = 0; let inf = null, def = null;
  const send = (t) => { if (def) { def.write(t); def.flush(zlib.constants.Z_SYNC_FLUSH); } else s.write(t); };
  const onText = (t) => { buf += t;
    if (step === 0 && buf.includes('\\r\\n')) { step = 1; buf = ''; send('l LOGIN alice secret\\r\\n'); }
    else if (step === 1 && /^l OK/m.test(buf)) { buf = ''; if (compress) { step = 2; send('z COMPRESS DEFLATE\\r\\n'); } else { step = 3; send('s SELECT INBOX\\r\\n'); } }
    else if (step === 2 && /^z OK/m.test(buf)) { buf = ''; step = 3; inf = zlib.createInflateRaw(); def = zlib.createDeflateRaw();
      inf.on('data', (d) => onText(d.toString('latin1'))); def.on('data', (d) => s.write(d)); send('s SELECT INBOX\\r\\n'); }
    else if (step === 3 && /^s OK/m.test(buf)) { buf = ''; step = 4; send('i IDLE\\r\\n'); }
    else if (step === 4 && /^\\+ /m.test(buf)) { step = 5; resolve(); } };
  s.on('data', (d) => { if (inf) inf.write(d); else onText(d.toString('latin1')); });
  s.on('error', reject);
}); }
(async () => { for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, one)); process.send('ready'); })();
process.on('message', () => { for (const s of held) s.destroy(); process.exit(0); });
`;

async function measure(label: string, compress: boolean, hibernateSeconds: number): Promise<void> {
  const s = await startImapServer({ limits: { idleHibernateSeconds: hibernateSeconds, maxConnectionsPerUser: 0, maxConnectionsPerIp: 0 } });
  const rss = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await sleep(100);
    }
    return process.memoryUsage().rss;
  };
  const before = await rss();
  const child = spawn(process.execPath, ['-e', CLIENT, String(s.port), String(N), compress ? '1' : '0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  await sleep(hibernateSeconds > 0 ? hibernateSeconds * 1000 + 1500 : 1000);
  const after = await rss();
  const parked = s.server.hibernation?.size ?? 0;
  console.log(`${label.padEnd(34)} ${N} sessions, ${parked} hibernated: ${((after - before) / N / 1024).toFixed(1)} KB per session (RSS)`);
  child.send('done');
  await new Promise((r) => child.once('exit', r));
  await s.close();
}

await measure('plain, awake', false, 0);
await measure('COMPRESS, awake', true, 0);
await measure('plain, hibernated', false, 0.5);
await measure('COMPRESS, hibernated', true, 0.5);

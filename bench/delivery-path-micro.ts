/**
 * `node --max-semi-space-size=1 --import tsx bench/delivery-path-micro.ts [--messages 5000] [--rounds 6] [--concurrency 10] [--sides …] [--cpu-prof DIR]`:
 * the delivery pipeline's own CPU per delivery for the Sieve destinations, without SQLite — the
 * LMTP bench's path (resolve, startLive, the message pushed through a ChunkChannel) into a
 * MemoryStore, with the Sieve filter installed as `postroom serve` installs it. The store's work
 * is then small and steady, so what differs between the sides is the pipeline's and the filter's:
 *
 *   none           no script (the plain path)
 *   flag           `addflag "$Bench";` (every message kept with a flag: the scripted path)
 *   folders-inbox  the 50-rule script's destinations as 11 rules, every fileinto to INBOX
 *   folders        the same, into Lists/listN and Tickets (one message in five filed elsewhere)
 *
 * 'folders' against 'folders-inbox' is what filing into another folder costs the pipeline; 'flag'
 * against 'none' what the scripted path and the flag cost. Measured with process.cpuUsage (one
 * thread: a MemoryStore has no others), sides in turns, the order reversed every other round.
 * `--cpu-prof DIR`: a V8 profile per side of the measured batches only (bench/profile-diff.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Authenticator } from '../src/auth/types.js';
import { DeliveryPipeline } from '../src/delivery/pipeline.js';
import { createSieveFilter } from '../src/delivery/sieve-filter.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { benchMessage, deliverLive, withUsers } from './sieve/fifty-rules.js';
import { median } from './sieve/alternate.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '10' },
    sides: { type: 'string', default: 'none,flag,folders-inbox,folders' },
    'cpu-prof': { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);

const folders = `require ["fileinto", "mailbox", "imap4flags"];\r\n${Array.from({ length: 10 }, (_, i) => `if header :contains "list-id" "<list${i + 1}.lists.example.org>" { fileinto :create "Lists/list${i + 1}"; stop; }`).join('\r\n')}\r\nif header :contains "subject" "[ticket #" { fileinto :create "Tickets"; stop; }\r\naddflag "$Bench";\r\n`;
const SCRIPTS: Record<string, string | null> = {
  none: null,
  flag: 'require "imap4flags";\r\naddflag "$Bench";\r\n',
  folders,
  'folders-inbox': folders.replace(/fileinto :create "[^"]+"/g, 'fileinto "INBOX"'),
};

const auth = { authenticate: async () => null } as unknown as Authenticator;
interface Side {
  name: string;
  store: MemoryStore;
  pipeline: DeliveryPipeline;
  cpu: number[];
  /** Young-generation collections per 1,000 deliveries, each batch: with `node --max-semi-space-size=1`, about KB allocated per delivery. */
  minor: number[];
  filed: number;
}
const sides: Side[] = [];
for (const name of values.sides.split(',')) {
  if (!(name in SCRIPTS)) throw new Error(`--sides: unknown side ${name} (known: ${Object.keys(SCRIPTS).join(', ')})`);
  const store = await withUsers(new MemoryStore(), USERS, SCRIPTS[name]!);
  const filter = createSieveFilter({ scriptChanges: store });
  sides.push({ name, store, pipeline: new DeliveryPipeline({ store, auth, filter, mailboxChanges: store }), cpu: [], minor: [], filed: 0 });
}

let minorGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcs++;
}).observe({ entryTypes: ['gc'] });

let seqAll = 0;
async function batch(side: Side, count: number): Promise<{ cpu: number; minor: number }> {
  // The messages are made before the clock starts: only the delivery is counted.
  const base = seqAll;
  seqAll += count;
  const messages = Array.from({ length: count }, (_, i) => benchMessage('micro', base + i));
  let next = 0;
  const gcs0 = minorGcs;
  const start = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const outcome = await deliverLive(side.pipeline, USERS[(base + i) % USERS.length]!, messages[i]!);
      for (const copy of outcome.stored) if (copy.mailbox !== 'INBOX') side.filed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(start);
  await new Promise((r) => setImmediate(r)); // the GC entries of the batch are delivered
  const minor = ((minorGcs - gcs0) * 1000) / count;
  // A MemoryStore keeps every message: emptied between batches so that no side grows slower.
  for (const u of USERS) {
    const mail = await side.store.open(u);
    for (const box of await mail.list()) {
      if (box.noselect) continue;
      const uids = (await mail.snapshot(box.id)).messages.map((m) => m.uid);
      if (uids.length > 0) {
        await mail.updateFlags(box.id, uids, 'add', ['\\Deleted']);
        await mail.expunge(box.id);
      }
    }
    await mail.close();
  }
  return { cpu: (used.user + used.system) / count, minor };
}

for (const side of sides) await batch(side, 2000); // warm-up: the JIT, the script's folders made
const profiler = values['cpu-prof'] ? new Session() : null;
if (profiler) {
  mkdirSync(values['cpu-prof']!, { recursive: true });
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 50 });
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) {
    if (profiler) await profiler.post('Profiler.start');
    const got = await batch(side, MESSAGES);
    side.cpu.push(got.cpu);
    side.minor.push(got.minor);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(join(values['cpu-prof']!, `${side.name}-r${r}.cpuprofile`), JSON.stringify(profile));
    }
  }
}
profiler?.disconnect();
process.stdout.write(`pipeline into a MemoryStore, ${MESSAGES} live deliveries of 10 KB per batch, ${CONCURRENCY} at a time, ${ROUNDS} rounds in turns; CPU µs per delivery (one thread)\n\n`);
process.stdout.write('| side | median | rounds | minor GCs per 1,000 (median) | copies filed outside INBOX |\n|---|---:|---|---:|---:|\n');
for (const side of sides) {
  process.stdout.write(`| ${side.name} | ${median(side.cpu).toFixed(1)} | ${side.cpu.map((x) => x.toFixed(1)).join(', ')} | ${median(side.minor).toFixed(2)} | ${side.filed} |\n`);
}

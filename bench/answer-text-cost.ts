/**
 * What writing a 100,000-number answer costs in total, in one go and in steps (issue 13: the
 * steps must not cost more than the one join did). CPU time of the whole process per call, the
 * two taking turns, `--rounds` each (default 20); the steps' pauses resolve at once, so only the
 * work is measured. Prints the median and the lowest of each.
 *
 *   npx tsx bench/answer-text-cost.ts [--messages 100000] [--rounds 20]
 */
import { numberListInSlices, formatOrderedSet, formatOrderedSetInSlices } from '../src/imap/search/results.js';
import { formatThreads, formatThreadsInSlices } from '../src/imap/search/thread-format.js';
import { threadMessages } from '../src/store/sort/thread.js';
import type { SortableMessage } from '../src/store/types.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const MESSAGES = Number(arg('messages', '100000'));
const ROUNDS = Number(arg('rounds', '20'));

const cpuMs = async (fn: () => unknown): Promise<number> => {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const numbers = Array.from({ length: MESSAGES }, (_, i) => i + 1);
// A sort order: no runs, so the ALL set is as long as the list.
const shuffled = numbers.map((n) => ((n * 7919) % MESSAGES) + 1);
const messages: SortableMessage[] = numbers.map((uid) => ({
  uid, internalDate: uid, size: 1, sentDate: uid % 977, subject: `s${uid % 5000}`, replyOrForward: false,
  from: '', to: '', cc: '', displayFrom: '', displayTo: '', messageId: `m${uid}`, references: uid % 4 ? [`m${uid - (uid % 4)}`] : [],
}));
const threads = threadMessages(messages, 'references');
const now = (): Promise<void> => Promise.resolve();

const cases: Array<[string, () => unknown, () => Promise<unknown>]> = [
  ['SEARCH answer (join)', () => numbers.join(' '), () => numberListInSlices(numbers, now)],
  ['ESEARCH ALL of a sort order', () => formatOrderedSet(shuffled), () => formatOrderedSetInSlices(shuffled, now)],
  ['THREAD text', () => formatThreads(threads, (uid) => uid), () => formatThreadsInSlices(threads, (uid) => uid, now)],
];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log('| answer | one go, median (min) CPU ms | in steps, median (min) CPU ms |\n|---|---|---|');
for (const [name, oneGo, steps] of cases) {
  const a: number[] = [];
  const b: number[] = [];
  // Both flattened to bytes as the encoder does, so a rope pays its flattening here too.
  for (let r = 0; r < ROUNDS; r++) {
    a.push(await cpuMs(() => Buffer.byteLength(String(oneGo()))));
    b.push(await cpuMs(async () => Buffer.byteLength(String(await steps()))));
  }
  console.log(`| ${name} | ${median(a).toFixed(2)} (${Math.min(...a).toFixed(2)}) | ${median(b).toFixed(2)} (${Math.min(...b).toFixed(2)}) |`);
}

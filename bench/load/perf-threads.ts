/**
 * Where each thread of a server process spends its CPU, by `perf record -g -p PID` over a window and
 * `perf script` afterwards (bench/p99-sched.ts --perf). V8's background threads all look alike from
 * /proc (every one is named "node"); their stacks say what they did: a scavenge's parallel tasks,
 * concurrent marking of a major GC, concurrent sweeping, optimizing compiles, array-buffer sweeping.
 */
import { execFileSync } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import { rmSync } from 'node:fs';

/**
 * `perf record` around the server, sampling every thread at `hz` each, started with events off and
 * switched on and off over a control FIFO (`--control`, `-D -1`) so only the measured window is
 * sampled. (Attaching to a running pid with `-p` samples nothing on the bench machine.)
 */
export class PerfWrap {
  readonly wrap: string[];
  private ctl?: FileHandle;
  private ack?: FileHandle;

  constructor(readonly file: string, hz = 2000) {
    for (const f of [`${file}.ctl`, `${file}.ack`]) {
      rmSync(f, { force: true });
      execFileSync('mkfifo', [f]);
    }
    this.wrap = ['perf', 'record', '-q', '-D', '-1', '--control', `fifo:${file}.ctl,${file}.ack`, '-F', String(hz), '-g', '-o', file, '--'];
  }

  /** Sends `enable` or `disable` and waits for perf's ack. */
  async send(what: 'enable' | 'disable'): Promise<void> {
    this.ctl ??= await open(`${this.file}.ctl`, 'w');
    this.ack ??= await open(`${this.file}.ack`, 'r');
    await this.ctl.write(`${what}\n`);
    const buf = Buffer.alloc(16);
    await this.ack.read(buf, 0, 16);
  }

  async close(): Promise<void> {
    await this.ctl?.close();
    await this.ack?.close();
    rmSync(`${this.file}.ctl`, { force: true });
    rmSync(`${this.file}.ack`, { force: true });
  }
}

/** Kinds of work, first match over a sample's whole stack wins (the order matters). */
const KINDS: [string, RegExp][] = [
  ['scavenge', /Scavenge|ScavengerCollector|MinorGC|MinorMarkSweep|MinorMarkCompact|YoungGeneration/],
  ['concurrent marking', /ConcurrentMarking|MarkingVisitor|MarkCompactCollector|IncrementalMarking|MarkingWorklist/],
  ['sweeping', /Sweeper|Sweep/],
  ['array buffers', /ArrayBufferSweeper|ArrayBufferList|BackingStore/],
  ['optimizing compile', /compiler::|OptimizingCompileDispatcher|Turbofan|maglev::|Maglev/],
  ['parse / bytecode', /BackgroundCompileTask|Parser|interpreter::|BackgroundDeserialize/],
  ['other GC', /Heap::|heap::|MemoryAllocator|Unmapper|cppgc/],
  ['sqlite', /sqlite3/],
  ['wait / wake (kernel)', /futex|pthread_cond|schedule|uv_cond|uv_sem|epoll_wait/],
];

/**
 * Per thread group (`groupOf`: tid → group name; unknown tids are "other threads"), µs of sampled
 * CPU per command, by kind and by the sampled (leaf) function. A markdown text.
 */
export function perfReport(file: string, commands: number, groupOf: Map<number, string>, top = 6): string {
  let text: string;
  try {
    text = execFileSync('perf', ['script', '-i', file, '-F', 'tid,period,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    return `perf script failed: ${(err as Error).message}\n`;
  }
  interface Group {
    ns: number;
    kinds: Map<string, number>;
    leaves: Map<string, number>;
  }
  const groups = new Map<string, Group>();
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const head = /^\s*(\d+)\s+(\d+)/.exec(lines[0] ?? '');
    if (!head) continue;
    const tid = Number(head[1]);
    const ns = Number(head[2]);
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''));
    const name = groupOf.get(tid) ?? 'other threads';
    const g = groups.get(name) ?? { ns: 0, kinds: new Map(), leaves: new Map() };
    g.ns += ns;
    const joined = frames.join('\n');
    add(g.kinds, KINDS.find(([, re]) => re.test(joined))?.[0] ?? 'other', ns);
    const leaf = (frames.find((f) => f !== '[unknown]') ?? '[unknown]').replace(/\(.*$/, '').slice(0, 90);
    add(g.leaves, leaf, ns);
    groups.set(name, g);
  }
  const us = (ns: number): string => (ns / 1000 / commands).toFixed(1);
  const sorted = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => b[1] - a[1]);
  let out = '\nperf, sampled CPU µs per command by thread group: by kind · top functions\n';
  for (const [name, g] of [...groups.entries()].sort((a, b) => b[1].ns - a[1].ns)) {
    if (g.ns / 1000 / commands < 0.5) continue;
    out += `- **${name}** ${us(g.ns)}: ${sorted(g.kinds).map(([k, v]) => `${k} ${us(v)}`).join(', ')}\n`;
    out += `  ${sorted(g.leaves).slice(0, top).map(([k, v]) => `${k} ${us(v)}`).join('; ')}\n`;
  }
  return out;
}

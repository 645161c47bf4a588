/**
 * Runs the model-checking stress: N clients over M users (so about N/M sessions share each INBOX),
 * half of them logging out after every round and half staying in for several, for a bounded time,
 * against a server on host:port. Returns what the world collected: errors by kind (with examples
 * and the transcript tail of the session that saw each) and commands by name.
 */
import { StressClient } from './client.js';
import { prng } from './messages.js';
import { World, type ErrorReport } from './world.js';

export interface StressOptions {
  host: string;
  port: number;
  /** `port` is an implicit-TLS port (every client connects over TLS). */
  tls?: boolean;
  users: string[];
  password: string;
  clients: number;
  seconds: number;
  /** Messages each INBOX should hold about. */
  target?: number;
  seed?: number;
  /** Clients start over this many milliseconds, not all at once. */
  rampMs?: number;
  /** Progress lines (every 10 s) go here. */
  progress?: (line: string) => void;
}

export interface StressResult {
  seconds: number;
  commands: Map<string, number>;
  totalCommands: number;
  errorCount: number;
  errorsByKind: Map<string, number>;
  examples: ErrorReport[];
}

export async function runStress(o: StressOptions): Promise<StressResult> {
  const world = new World();
  const seed = o.seed ?? 1;
  const started = Date.now();
  const until = started + o.seconds * 1000;
  const ramp = o.rampMs ?? Math.min(5_000, o.clients * 20);
  const total = (): number => [...world.commands.values()].reduce((a, b) => a + b, 0);
  const timer = o.progress
    ? setInterval(() => o.progress!(`${((Date.now() - started) / 1000).toFixed(0)} s: ${total()} commands, ${world.errorCount} errors`), 10_000)
    : null;
  try {
    await Promise.all(
      Array.from({ length: o.clients }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (ramp * i) / o.clients));
        const client = new StressClient(`c${i + 1}`, world, {
          host: o.host,
          port: o.port,
          ...(o.tls ? { tls: true } : {}),
          user: o.users[i % o.users.length]!,
          password: o.password,
          keepAlive: i % 2 === 1,
          target: o.target ?? 40,
          rand: prng(seed * 7919 + i),
        });
        await client.run(until);
      }),
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  return {
    seconds: (Date.now() - started) / 1000,
    commands: world.commands,
    totalCommands: total(),
    errorCount: world.errorCount,
    errorsByKind: world.counts,
    examples: world.errors,
  };
}

export function stressReport(r: StressResult): string {
  const lines = [`${r.totalCommands} commands in ${r.seconds.toFixed(1)} s (${(r.totalCommands / r.seconds).toFixed(0)}/s), ${r.errorCount} errors`];
  lines.push(`commands: ${[...r.commands.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [kind, n] of [...r.errorsByKind.entries()].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(6)}  ${kind}`);
  for (const e of r.examples) {
    lines.push(`--- ${e.kind} (${e.session}): ${e.detail}`);
    for (const t of e.transcript) lines.push(`      ${t}`);
  }
  return lines.join('\n');
}

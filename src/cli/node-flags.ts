/**
 * V8 heap settings of `postroom serve` (`v8SemiSpaceMb`, `v8SingleThreadedGc`) that only take
 * effect when given to node at start: the young generation's size is fixed when V8 makes the heap
 * (`v8.setFlagsFromString` afterwards changes nothing — measured, bench/RESULTS.md). So when one is
 * set and node was not started with it, `serve` starts node again with the flags and waits for it
 * (relaunch); the first process stays only as a launcher: it passes SIGTERM/SIGINT/SIGHUP on, over
 * an IPC channel, and exits with the server's exit code. The server stops when that channel closes,
 * so a launcher killed outright (SIGKILL) does not leave a server running without it.
 *
 * A signal sent to both (systemd stopping the unit's control group, Ctrl-C to the terminal's process
 * group) thus reaches the server twice: the copy passed on by the launcher is a request, never the
 * "second signal" that makes a stopping server exit at once (serve.ts).
 *
 * Flags already in `process.execArgv` or NODE_OPTIONS — the operator's own, whatever their value —
 * win and cause no relaunch (NODE_OPTIONS allows --max-semi-space-size, not the minimum).
 */
import { spawn } from 'node:child_process';
import v8 from 'node:v8';
import type { ServeSettings } from '../config/settings.js';

/** Set in the relaunched server's environment: it never relaunches again. */
export const RELAUNCHED_ENV = 'POSTROOM_RELAUNCHED';

const PASSED_ON = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
type PassedOn = (typeof PASSED_ON)[number];

/** Launcher → server over the IPC channel. */
interface SignalMessage {
  postroomSignal: PassedOn;
}

/** The node flags the settings ask for (none with the defaults). */
export function nodeFlagsFor(settings: Pick<ServeSettings, 'v8SemiSpaceMb' | 'v8SingleThreadedGc'>): string[] {
  const flags: string[] = [];
  if (settings.v8SemiSpaceMb > 0) {
    // Both bounds: with only the maximum, V8 starts at 1 MiB and grows the young generation slowly
    // (a doubling after as many bytes survived as it holds), minutes at a low survival rate.
    flags.push(`--min-semi-space-size=${settings.v8SemiSpaceMb}`, `--max-semi-space-size=${settings.v8SemiSpaceMb}`);
  }
  if (settings.v8SingleThreadedGc) flags.push('--single-threaded-gc');
  return flags;
}

/**
 * `--max_semi_space_size=8` → `semi-space-size` (V8 takes `_` and `-` alike). The two semi-space
 * bounds are one setting: an operator's own maximum (the one NODE_OPTIONS allows) stands for both.
 */
function flagKey(arg: string): string {
  return arg.replace(/^--?/, '').split('=')[0]!.replace(/_/g, '-').replace(/^(min|max)-semi-space-size$/, 'semi-space-size');
}

/** The wanted flags that node was not started with (by name: an operator's own value wins). */
export function missingNodeFlags(wanted: readonly string[], execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const present = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)].map(flagKey));
  return wanted.filter((flag) => !present.has(flagKey(flag)));
}

/**
 * V8's scheduling of young-generation GCs (scavenges), the one GC setting that takes effect after
 * node started: applied with v8.setFlagsFromString by every server process (start.ts), no relaunch.
 *
 * By default V8 asks for a scavenge as a task of its own once the young generation is ~80 % full;
 * node runs that task at the next turn of the event loop — right after the command that crossed
 * the mark has written its answer, which is when a client sending its commands back to back sends
 * the next one. So the scavenge (0.5–1 ms, more on a loaded machine) lands in the *next* command,
 * whatever it is: measured on one persistent client (bench/RESULTS.md, "p99 of the read commands"),
 * 67 of 84 scavenges ran so, and they sat in the round trips of LIST after EXPUNGE and FETCH FLAGS
 * after SELECT, commands of 0.1 ms whose p99 a 1 ms pause in 1 % of them sets. Without the task
 * (`v8MinorGcTask: false`, the default here) the scavenge runs when the young generation is full,
 * inside the allocation that fills it: in proportion to what each command allocates, so mostly in
 * the commands that allocate much (SELECT, APPEND, FETCH of many messages), whose own time is
 * already several times a pause, and ~15 % fewer of them (the last 20 % of the space is used too).
 */
export function applyGcScheduling(settings: Pick<ServeSettings, 'v8MinorGcTask'>): void {
  v8.setFlagsFromString(settings.v8MinorGcTask ? '--minor-gc-task' : '--no-minor-gc-task');
}

/** Whether this process is a server the launcher started (and so answers its IPC requests). */
export function isRelaunched(): boolean {
  return process.env[RELAUNCHED_ENV] === '1' && typeof process.send === 'function';
}

/**
 * Runs this same command again in a node started with `flags` added, and never returns: the
 * process exits when the server does, with its exit code (a server killed by a signal: 128 + its
 * number, as a shell reports it).
 */
export function relaunch(flags: readonly string[]): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [RELAUNCHED_ENV]: '1' },
  });
  for (const signal of PASSED_ON) {
    process.on(signal, () => {
      if (child.connected) child.send({ postroomSignal: signal } satisfies SignalMessage);
    });
  }
  return new Promise<never>(() => {
    child.on('error', (err) => {
      process.stderr.write(`postroom: could not start node again with ${flags.join(' ')}: ${err.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      process.exit(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

/**
 * In a relaunched server: the launcher's passed-on signals, and its end (the channel closing) as a
 * SIGTERM. The channel does not keep the server's event loop alive.
 */
export function listenToLauncher(handlers: { stop: (signal: NodeJS.Signals, passedOn: boolean) => void; reload: () => void }): void {
  if (!isRelaunched()) return;
  process.on('message', (message: unknown) => {
    const signal = (message as Partial<SignalMessage> | null)?.postroomSignal;
    if (signal === 'SIGHUP') handlers.reload();
    else if (signal === 'SIGTERM' || signal === 'SIGINT') handlers.stop(signal, true);
  });
  process.on('disconnect', () => handlers.stop('SIGTERM', true));
  process.channel?.unref();
}

import { readFileSync } from 'node:fs';

/**
 * Runs each side's batch once to warm up, then `rounds` rounds with the order reversed every other
 * round (so neither side always runs first on a warmer machine); returns each side's figures.
 */
export async function alternateRounds<P, F>(
  sides: ReadonlyArray<readonly [string, P]>,
  rounds: number,
  batch: (side: P, tag: string) => Promise<F>,
): Promise<F[][]> {
  for (const [, p] of sides) await batch(p, 'warm');
  const figures = sides.map(() => [] as F[]);
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) figures[i]!.push(await batch(sides[i]![1], `r${r}`));
  }
  return figures;
}

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** This thread's CPU time in µs (/proc/thread-self: user + system, 10 ms ticks). */
export function threadCpuUs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10_000;
}

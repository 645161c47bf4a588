/**
 * CPU time of a server process and everything under it, from /proc (Linux): what a command costs
 * the server, a figure far less sensitive to the machine's load than commands/s — on a loaded
 * machine a server of many processes gets a larger share of the cores than a one-process server.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** clock ticks per second of /proc's times (USER_HZ, 100 on Linux) */
const TICKS = 100;

/**
 * CPU seconds (user + system) of `pid` and every process under it so far: utime + stime of the
 * live ones (all their threads) plus cutime + cstime, which hold the children that have exited and
 * been waited for (Dovecot's imap and imap-login processes come and go).
 */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  }
  let sum = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    sum += ticks.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return sum / TICKS;
}

/**
 * Memory of a server as PSS summed over its process tree. RSS would count each shared library once
 * per process, which inflates a forking server like Dovecot; PSS splits shared pages between the
 * processes that map them, so the sum is what the tree really costs.
 */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

function rollup(pid: number, field: 'Pss' | 'Rss'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // the process ended while we looked
  }
}

export interface TreeMemory {
  processes: number;
  pssBytes: number;
  rssBytes: number;
}

export function treeMemory(root: number): TreeMemory {
  const pids = processTree(root);
  let pss = 0;
  let rss = 0;
  for (const p of pids) {
    pss += rollup(p, 'Pss');
    rss += rollup(p, 'Rss');
  }
  return { processes: pids.length, pssBytes: pss, rssBytes: rss };
}

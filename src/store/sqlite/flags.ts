/**
 * Flags are stored as one space-separated string per message (flags and keywords are atoms, so they
 * never contain a space). Names compare case-insensitively (RFC 3501 §2.3.2 treats system flags that
 * way and clients expect keywords to follow); the spelling first seen is kept.
 */
import { SYSTEM_FLAGS, type Flag } from '../types.js';

const CANONICAL = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** Canonical spelling, or null for flags a store never keeps (\Recent is a session concept). */
export function canonicalFlag(flag: string): string | null {
  const lower = flag.toLowerCase();
  if (lower === '\\recent') return null;
  return CANONICAL.get(lower) ?? flag;
}

export function normalizeFlags(flags: readonly Flag[]): Flag[] {
  // None or one — nearly every APPEND and delivery (a Sieve `addflag`, a client's \Seen) — needs
  // no set of the names seen: the same answer without allocating one per message.
  if (flags.length <= 1) {
    const flag = flags.length === 0 ? null : canonicalFlag(flags[0]!);
    return flag === null || flag === '' ? [] : [flag];
  }
  const out: Flag[] = [];
  const seen = new Set<string>();
  for (const raw of flags) {
    const flag = canonicalFlag(raw);
    if (flag === null || flag === '') continue;
    const key = flag.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(flag);
  }
  return out;
}

export function parseFlags(stored: string): Flag[] {
  return stored === '' ? [] : stored.split(' ');
}

export function serializeFlags(flags: readonly Flag[]): string {
  return flags.join(' ');
}

/** Applies a STORE operation; returns null when nothing changed. */
export function applyFlagOperation(current: Flag[], operation: 'set' | 'add' | 'remove', flags: Flag[]): Flag[] | null {
  let next: Flag[];
  if (operation === 'set') next = flags;
  else if (operation === 'add') next = normalizeFlags([...current, ...flags]);
  else {
    const drop = new Set(flags.map((f) => f.toLowerCase()));
    next = current.filter((f) => !drop.has(f.toLowerCase()));
  }
  return sameFlags(current, next) ? null : next;
}

function sameFlags(a: Flag[], b: Flag[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => set.has(f.toLowerCase()));
}

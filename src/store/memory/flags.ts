/**
 * Flag normalisation shared by the stores: system flags get their canonical spelling, keywords keep
 * the spelling first given, duplicates go (flags are atoms, and atoms compare case-insensitively,
 * RFC 3501 §9 note 1), and "\Recent" is dropped because it is a session concept (RFC 3501 §2.3.2)
 * that a store never persists.
 */
import { SYSTEM_FLAGS, type Flag, type FlagOperation } from '../types.js';

const CANONICAL = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

export function normaliseFlags(flags: Iterable<Flag>): Flag[] {
  const seen = new Set<string>();
  const out: Flag[] = [];
  for (const raw of flags) {
    if (raw.length === 0) continue;
    const key = raw.toLowerCase();
    if (key === '\\recent' || seen.has(key)) continue;
    seen.add(key);
    out.push(CANONICAL.get(key) ?? raw);
  }
  return out;
}

/** The flags after applying `operation`; `current` and `given` must already be normalised. */
export function applyFlagOperation(current: Flag[], operation: FlagOperation, given: Flag[]): Flag[] {
  if (operation === 'set') return [...given];
  const givenKeys = new Set(given.map((f) => f.toLowerCase()));
  if (operation === 'remove') return current.filter((f) => !givenKeys.has(f.toLowerCase()));
  return normaliseFlags([...current, ...given]);
}

/** Same flags, ignoring order and case. */
export function sameFlags(a: Flag[], b: Flag[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => keys.has(f.toLowerCase()));
}

export function hasFlag(flags: Flag[], flag: Flag): boolean {
  const key = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === key);
}

/**
 * The Sieve limits and their defaults (docs/sieve.md, "Limits"). Defaults follow Pigeonhole's where
 * it has the same limit (script size, actions, redirects), so that scripts moved from Dovecot
 * behave the same.
 */
import type { SieveLimits } from './types.js';

export const DEFAULT_SIEVE_LIMITS: SieveLimits = Object.freeze({
  maxScriptBytes: 1024 * 1024,
  maxNestingDepth: 32,
  maxActions: 32,
  maxRedirects: 4,
  maxBodyBytes: 1024 * 1024,
  maxMatchSteps: 1_000_000,
  maxRunMilliseconds: 2000,
  maxVariables: 255,
  maxVariableBytes: 4096,
  maxEventMilliseconds: 10_000,
});

/**
 * Nesting beyond this is refused whatever the configuration says: parser, validator and
 * interpreter recurse once per level, and this keeps them far from the stack's end.
 */
export const HARD_MAX_NESTING = 1000;

let defaults: Required<SieveLimits> | undefined;

/** Resolved limits by the object given: the delivery filter passes the same one to every run. */
const resolved = new WeakMap<Partial<SieveLimits>, Required<SieveLimits>>();

/** The limits with the defaults filled in; the result is shared, do not change it. */
export function resolveLimits(partial?: Partial<SieveLimits>): Required<SieveLimits> {
  // Without limits given (runSieve's callers other than delivery), the defaults, resolved once: not
  // two object copies and an entries array per run.
  if (!partial) return (defaults ??= Object.freeze(resolveFresh({})));
  let merged = resolved.get(partial);
  if (!merged) resolved.set(partial, (merged = Object.freeze(resolveFresh(partial))));
  return merged;
}

function resolveFresh(partial: Partial<SieveLimits>): Required<SieveLimits> {
  const merged = { ...DEFAULT_SIEVE_LIMITS, ...stripUndefined(partial) } as Required<SieveLimits>;
  merged.maxNestingDepth = Math.min(merged.maxNestingDepth, HARD_MAX_NESTING);
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

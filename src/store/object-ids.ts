/**
 * RFC 8474 EMAILIDs of the built-in stores are emailIdOf(sha256) (types.ts): a search for one
 * turns back into the range of digests it stands for, which the stores' unique index on the
 * digest finds directly.
 */

/**
 * The SHA-256 digests an EMAILID stands for, as hex bounds [lower, upper) — upper absent when the
 * prefix is all ones — or null when the id is not one emailIdOf() makes. Only validated hex goes
 * into SQL text.
 */
export function emailIdDigestRange(id: string): { lower: string; upper?: string } | null {
  const m = /^M([0-9a-f]{24})$/.exec(id);
  if (!m) return null;
  const bytes = Buffer.from(m[1]!, 'hex');
  const next = Buffer.from(bytes);
  let i = next.length - 1;
  while (i >= 0 && next[i] === 0xff) next[i--] = 0;
  if (i < 0) return { lower: m[1]! };
  next[i]! += 1;
  return { lower: m[1]!, upper: next.toString('hex') };
}


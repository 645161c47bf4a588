/**
 * Variables (RFC 5229): named variables set by `set`, match variables ${0}…${N} from the last
 * successful :matches, and the expansion of "${name}" in strings. Names are case-insensitive;
 * an unknown variable expands to "" (§3); a reference that is not well formed is left as written.
 */
import { quoteWildcard } from './match.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}/g;

export class VariableLimitError extends Error {}

/**
 * Total characters one run may produce by expanding variables. Without it, a 1 MiB script of
 * "${a}" references to a 4 KiB variable would build gigabytes within a single command.
 */
export const MAX_EXPANDED_CHARS = 16 * 1024 * 1024;

export class Variables {
  private readonly named = new Map<string, string>();
  private expanded = 0;
  matches: string[] = [];

  constructor(
    private readonly maxVariables: number,
    private readonly maxBytes: number,
  ) {}

  get(name: string): string {
    if (/^[0-9]+$/.test(name)) return this.matches[Number(name)] ?? '';
    return this.named.get(name.toLowerCase()) ?? '';
  }

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    if (!this.named.has(key) && this.named.size >= this.maxVariables) throw new VariableLimitError(`more than ${this.maxVariables} variables (maxVariables)`);
    this.named.set(key, this.cut(value));
  }

  setMatches(values: string[]): void {
    this.matches = values.map((v) => this.cut(v));
  }

  expand(s: string): string {
    if (!s.includes('${')) return s;
    return s.replace(REFERENCE, (_w, name: string) => {
      const v = this.get(name);
      this.expanded += v.length;
      if (this.expanded > MAX_EXPANDED_CHARS) throw new VariableLimitError(`variables expanded to more than ${MAX_EXPANDED_CHARS} characters in one run`);
      return v;
    });
  }

  /** Values longer than the limit are cut at a character boundary (RFC 5229 §6 allows it). */
  private cut(v: string): string {
    if (v.length * 3 <= this.maxBytes || Buffer.byteLength(v) <= this.maxBytes) return v;
    let out = Buffer.from(v).subarray(0, this.maxBytes).toString('utf8');
    if (out.endsWith('\uFFFD')) out = out.slice(0, -1);
    return out;
  }
}

/** The `set` modifiers in precedence order (RFC 5229 §4.1): 40, 30, 20, then 10. */
export function applyModifiers(value: string, tags: ReadonlyMap<string, unknown>): string {
  let v = value;
  if (tags.has('lower')) v = v.toLowerCase();
  if (tags.has('upper')) v = v.toUpperCase();
  if (tags.has('lowerfirst')) v = v.charAt(0).toLowerCase() + v.slice(1);
  if (tags.has('upperfirst')) v = v.charAt(0).toUpperCase() + v.slice(1);
  if (tags.has('quotewildcard')) v = quoteWildcard(v);
  if (tags.has('length')) v = String(Array.from(v).length);
  return v;
}

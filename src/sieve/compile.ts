/**
 * Source text → a runnable script: size limit, parse, validate, each error as a diagnostic with
 * its line and column. The program behind a SieveScript is kept out of the public type (a WeakMap
 * keyed by the script), so the contract stays the small interface of types.ts.
 */
import { Parser } from './parser.js';
import { SieveSyntaxError, SourceMap } from './position.js';
import type { Program } from './program.js';
import { resolveLimits } from './limits.js';
import { SIEVE_EXTENSIONS } from './spec.js';
import type { CompileResult, SieveLimits, SieveScript } from './types.js';
import { Validator } from './validate.js';

/** What a compiled script is made of (one table, so that a run looks it up once). */
export interface Compiled {
  program: Program;
  /** For runtime errors: the line of the command that failed. */
  map: SourceMap;
}
const compiled = new WeakMap<SieveScript, Compiled>();

export function programOf(script: SieveScript): Program | undefined {
  return compiled.get(script)?.program;
}

/** The program and source map of a script compiled by compileSieve. */
export function compiledOf(script: SieveScript): Compiled | undefined {
  return compiled.get(script);
}

export interface CompileOptions {
  limits?: Partial<SieveLimits>;
  /** The extensions scripts may require (default: all of SIEVE_EXTENSIONS). */
  extensions?: readonly string[];
}

export function compileSieve(source: string, options: CompileOptions = {}): CompileResult {
  const limits = resolveLimits(options.limits);
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxScriptBytes) {
    return {
      ok: false,
      errors: [{ line: 1, column: 1, message: `script is ${bytes} bytes, more than the limit of ${limits.maxScriptBytes} (maxScriptBytes)` }],
    };
  }
  const map = new SourceMap(source);
  try {
    const nodes = new Parser(source, limits.maxNestingDepth).parse();
    const available = new Set((options.extensions ?? SIEVE_EXTENSIONS).map((e) => e.toLowerCase()));
    const program = new Validator(available).validate(nodes);
    const script: SieveScript = Object.freeze({ requires: Object.freeze([...program.requires]) });
    compiled.set(script, { program, map });
    return { ok: true, script, warnings: [] };
  } catch (e) {
    if (e instanceof SieveSyntaxError) return { ok: false, errors: [map.diagnostic(e.offset, e.message)] };
    // A stack overflow or any other exception would be a defect here (nesting is bounded), but a
    // script must never crash its caller: it is refused with the reason.
    if (e instanceof RangeError) return { ok: false, errors: [{ line: 1, column: 1, message: 'script too complex to compile' }] };
    return { ok: false, errors: [{ line: 1, column: 1, message: `internal error while compiling: ${e instanceof Error ? e.message : String(e)}` }] };
  }
}

/**
 * Offsets in a script → 1-based line and column, as ManageSieve reports errors (RFC 5804 §2.6).
 * Columns count characters (Unicode code points), not bytes, so that an editor can go to them.
 */
import type { SieveDiagnostic } from './types.js';

export class SourceMap {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly source: string) {
    for (let i = 0; i < source.length; i++) {
      const c = source.charCodeAt(i);
      // A lone CR counts as a line end too, as editors show it.
      if (c === 0x0a || (c === 0x0d && source.charCodeAt(i + 1) !== 0x0a)) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = this.lineStarts[lo]!;
    let column = 1;
    for (let i = start; i < offset && i < this.source.length; i++) {
      const c = this.source.charCodeAt(i);
      // The second half of a surrogate pair is the same character.
      if (c < 0xdc00 || c > 0xdfff) column++;
    }
    return { line: lo + 1, column };
  }

  diagnostic(offset: number, message: string): SieveDiagnostic {
    return { ...this.position(offset), message };
  }
}

/** An error found while compiling, at an offset of the source. */
export class SieveSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

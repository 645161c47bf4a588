/**
 * Two scans over message bytes, 16 bytes at a time in WebAssembly SIMD: "is every line end CRLF?"
 * (src/store/line-ends.ts) and "how many LFs?" (the MIME parser's line count, src/mime/bytes.ts).
 *
 * Why: done with `Buffer#indexOf` it is two native calls per line (every LF, then every CR) — about
 * 36,000 calls and ~500 µs of event-loop CPU per megabyte of mail, the largest step of an LMTP
 * delivery's own work after SHA-256 (bench/lmtp-steps.ts). Here a chunk is copied into the
 * module's memory (a memcpy into memory touched before) and checked in one call, ~16 bytes per step.
 *
 * The rule per 16-byte block, with bit masks of where the LFs (`l`) and CRs (`c`) are: every LF
 * must follow a CR and every CR be followed by a LF, so `l` must equal `c` shifted by one place,
 * the CR that ended the previous block (`carry`) coming in at the bottom:
 *   l == ((c << 1) | carry) & 0xffff,   carry' = c >> 15.
 * Any bare LF or bare CR breaks the equality. Counting LFs is popcnt(l) summed (the parse's
 * `countLines`, one indexOf per line, ~170 µs per MB). The module is assembled below, byte by byte
 * (two functions of a dozen instructions; no build step, no binary in the tree); where WebAssembly
 * or its SIMD is missing, `lineScanner()` returns null and the callers use indexOf.
 */

/** The window the module's memory holds: one WebAssembly page. */
const WINDOW = 65536;

/** `crlf(length, carry)`: -1 at a bare CR or LF in memory[0, length) (length a multiple of 16), else the carry out. */
type Scan = (length: number, carry: number) => number;
/** `lf(length)`: the LFs in memory[0, length) (length a multiple of 16). */
type Count = (length: number) => number;

interface WasmInstance {
  exports: { mem: { buffer: ArrayBuffer }; crlf: Scan; lf: Count };
}
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => WasmInstance;
}

/** An unsigned LEB128 number (section sizes and counts here are small). */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

/** The module: one memory page, exported as `mem`, and the functions `crlf(length, carry)` and `lf(length)`. */
function moduleBytes(): Uint8Array {
  // Locals: 0 length, 1 carry (params); 2 i, 3 lf mask, 4 cr mask (i32); 5 the block (v128).
  const body = [
    ...[0x02, 0x03, I32, 0x01, V128], // local declarations: 3 × i32, 1 × v128
    0x02, 0x40, // block (the exit)
    0x03, 0x40, // loop
    0x20, 0x02, 0x20, 0x00, 0x4f, 0x0d, 0x01, // if i >= length: leave the block
    0x20, 0x02, SIMD, 0x00, 0x00, 0x00, 0x22, 0x05, // v = v128.load(i) (tee)
    0x41, 0x0a, SIMD, 0x0f, SIMD, 0x23, SIMD, 0x64, 0x21, 0x03, // l = bitmask(v == splat(LF))
    0x20, 0x05, 0x41, 0x0d, SIMD, 0x0f, SIMD, 0x23, SIMD, 0x64, 0x21, 0x04, // c = bitmask(v == splat(CR))
    0x20, 0x03, // l
    0x20, 0x04, 0x41, 0x01, 0x74, 0x20, 0x01, 0x72, 0x41, 0xff, 0xff, 0x03, 0x71, // ((c << 1) | carry) & 0xffff
    0x47, 0x04, 0x40, 0x41, 0x7f, 0x0f, 0x0b, // if they differ: return -1
    0x20, 0x04, 0x41, 0x0f, 0x76, 0x21, 0x01, // carry = c >>> 15
    0x20, 0x02, 0x41, 0x10, 0x6a, 0x21, 0x02, // i += 16
    0x0c, 0x00, // continue the loop
    0x0b, // end loop
    0x0b, // end block
    0x20, 0x01, // return carry
    0x0b, // end function
  ];
  // Locals: 0 length (param); 1 i, 2 count.
  const count = [
    ...[0x01, 0x02, I32], // local declarations: 2 × i32
    0x02, 0x40, // block
    0x03, 0x40, // loop
    0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, // if i >= length: leave the block
    0x20, 0x02, // count
    0x20, 0x01, SIMD, 0x00, 0x00, 0x00, // v128.load(i)
    0x41, 0x0a, SIMD, 0x0f, SIMD, 0x23, SIMD, 0x64, 0x69, // popcnt(bitmask(v == splat(LF)))
    0x6a, 0x21, 0x02, // count += it
    0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // i += 16
    0x0c, 0x00, // continue the loop
    0x0b, // end loop
    0x0b, // end block
    0x20, 0x02, // return count
    0x0b, // end function
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [0x02, 0x60, 0x02, I32, I32, 0x01, I32, 0x60, 0x01, I32, 0x01, I32]), // types: (i32, i32) -> i32, (i32) -> i32
    ...section(3, [0x02, 0x00, 0x01]), // two functions, one of each type
    ...section(5, [0x01, 0x01, 0x01, 0x01]), // one memory: 1 page, at most 1
    ...section(7, [0x03, ...name('mem'), 0x02, 0x00, ...name('crlf'), 0x00, 0x00, ...name('lf'), 0x00, 0x01]), // exports
    ...section(10, [0x02, ...leb(body.length), ...body, ...leb(count.length), ...count]), // the code
  ]);
}

export interface LineScanner {
  /** Whether every CR in `buf` is followed by LF and every LF preceded by CR (within `buf`). */
  isCrlf(buf: Buffer): boolean;
  /** The LFs in buf[start, end). */
  countLf(buf: Buffer, start: number, end: number): number;
}

let scanner: LineScanner | null | undefined;

/** The SIMD scanner, or null where it cannot be made (then the callers scan with indexOf). */
export function lineScanner(): LineScanner | null {
  if (scanner !== undefined) return scanner;
  try {
    const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
    if (!wasm) throw new Error('no WebAssembly');
    const { exports } = new wasm.Instance(new wasm.Module(moduleBytes()));
    const window = Buffer.from(exports.mem.buffer, 0, WINDOW);
    const scan = exports.crlf;
    const lf = exports.lf;
    scanner = {
      countLf(buf: Buffer, start: number, end: number): number {
        let n = 0;
        const whole = start + (end - start - ((end - start) % 16));
        for (let at = start; at < whole; at += WINDOW) {
          const len = Math.min(WINDOW, whole - at);
          buf.copy(window, 0, at, at + len);
          n += lf(len);
        }
        for (let i = whole; i < end; i++) if (buf[i] === 0x0a) n++;
        return n;
      },
      isCrlf(buf: Buffer): boolean {
        let carry = 0;
        const whole = buf.length - (buf.length % 16);
        for (let at = 0; at < whole; at += WINDOW) {
          const n = Math.min(WINDOW, whole - at);
          buf.copy(window, 0, at, at + n);
          carry = scan(n, carry);
          if (carry < 0) return false;
        }
        // The last 0–15 bytes, one by one.
        for (let i = whole; i < buf.length; i++) {
          const b = buf[i]!;
          if ((b === 0x0a) !== (carry === 1)) return false;
          carry = b === 0x0d ? 1 : 0;
        }
        return carry === 0;
      },
    };
  } catch {
    scanner = null;
  }
  return scanner;
}

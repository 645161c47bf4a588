/**
 * Page-aligned buffers for writing new body files with O_DIRECT (TempBlob, blob-files.ts).
 *
 * Why O_DIRECT: a body file written through the page cache needs a fresh page-cache page for every
 * 4 KiB, and those pages stay cached after the fdatasync (nothing asks for the memory back). On
 * the VM this was measured on, the first touch of a fresh page cost ~7 µs (the host backs guest
 * memory lazily), so the kernel's copy into the page cache was 1.7 ms per MB — the largest single
 * item of an LMTP delivery's CPU (36 % of the server's samples, bench/RESULTS.md); even where pages
 * are cheap it is a second copy of every byte and 256 pages per MB for the writeback to walk. With
 * O_DIRECT the device reads the body from these buffers, which are touched once and reused. The
 * price: the new file is not in the page cache, so its first read comes from the disk.
 *
 * O_DIRECT needs the buffer's address, the length and the file position aligned to the device's
 * logical block size. A Node Buffer of this size starts 16 bytes into a page (malloc's header);
 * a WebAssembly.Memory is allocated by V8 in whole pages, so its bytes start page-aligned. One
 * Memory of POOL_BYTES is reserved on first use and cut into pieces; its pages become resident
 * only as pieces are first used. Lengths and positions are whole pieces, except the last write of a
 * file, padded to ALIGN with zeros (the file is then truncated to its size).
 */

/** One piece: the most one write of a body file puts down. */
export const PIECE_BYTES = 512 * 1024;
/** Alignment of write lengths and positions: the page size, a multiple of every usual logical block size. */
export const ALIGN = 4096;
/**
 * At most this many bytes of pieces (64 bodies being written at once); a body that finds none free
 * is written through the page cache, as before.
 */
const POOL_BYTES = 32 * 1024 * 1024;

/** The one part of WebAssembly used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmMemoryClass = new (descriptor: { initial: number; maximum: number }) => WasmMemory;
const WasmMemoryClass = (globalThis as { WebAssembly?: { Memory: WasmMemoryClass } }).WebAssembly?.Memory;

let memory: WasmMemory | null | undefined;
let carved = 0;
const free: Buffer[] = [];

function reserve(): WasmMemory | null {
  if (memory !== undefined) return memory;
  try {
    if (!WasmMemoryClass) throw new Error('no WebAssembly');
    // Wasm pages are 64 KiB.
    memory = new WasmMemoryClass({ initial: POOL_BYTES / 65536, maximum: POOL_BYTES / 65536 });
  } catch {
    memory = null; // no WebAssembly (node --jitless): every body goes through the page cache
  }
  return memory;
}

/** A free aligned piece of PIECE_BYTES, or null when none is left (or none can be made). */
export function takePiece(): Buffer | null {
  const piece = free.pop();
  if (piece) return piece;
  const m = reserve();
  if (!m || carved + PIECE_BYTES > POOL_BYTES) return null;
  const made = Buffer.from(m.buffer, carved, PIECE_BYTES);
  carved += PIECE_BYTES;
  return made;
}

/** Gives a piece back; no write may still be reading it. */
export function givePiece(piece: Buffer): void {
  free.push(piece);
}

/** For tests: pieces made and pieces free. */
export function directPieces(): { made: number; free: number } {
  return { made: carved / PIECE_BYTES, free: free.length };
}

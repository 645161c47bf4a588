/**
 * Page-aligned, reused memory for new body files: the bytes of a body being written (TempBlob,
 * blob-files.ts) are gathered in a slot of this memory, written from there to the file with O_DIRECT,
 * and — for a body no larger than the slot — parsed from there as well.
 *
 * Why O_DIRECT: a body file written through the page cache needs a fresh page-cache page for every
 * 4 KiB, and those pages stay cached after the fdatasync (nothing asks for the memory back). On
 * the VM this was measured on, the first touch of a fresh page cost ~7 µs (the host backs guest
 * memory lazily), so the kernel's copy into the page cache was ~1.7 ms per MB — 36 % of the
 * server's CPU in an LMTP delivery of 1 MB (bench/RESULTS.md); even where pages are cheap it is a
 * second copy of every byte and 256 pages per MB for the writeback to walk. With O_DIRECT the
 * device reads the body from these slots, which are touched once and reused. The price: the new
 * file is not in the page cache, so its first read comes from the disk.
 *
 * Why one reused memory for the parse too: a body kept in a Buffer of its own is external memory
 * to V8, and a megabyte or two of it per delivery is what started a mark-compact every ~20 LMTP
 * deliveries ("external memory pressure"); a slot is allocated once.
 *
 * O_DIRECT needs the buffer's address, the length and the file position aligned to the device's
 * logical block size. A Node Buffer this large starts 16 bytes into a page (malloc's header); a
 * WebAssembly.Memory is allocated by V8 in whole pages, so its bytes start page-aligned. One Memory
 * of SLOTS × SLOT_BYTES is made at store open (reserveSlots) and cut into slots; its pages become resident only as
 * slots are first filled, and a slot given back is the next one taken. Writes are whole pieces of
 * PIECE_BYTES at piece-aligned positions, except the last of a file, padded to ALIGN with zeros
 * (the file is then cut to its size).
 */

/** One write of a body file puts down at most this many bytes. */
export const PIECE_BYTES = 1024 * 1024;
/** A slot: two pieces, so one can fill while the other waits for its write; a body up to this size is parsed from it. */
export const SLOT_BYTES = 2 * PIECE_BYTES;
/** Alignment of write lengths and positions: the page size, a multiple of every usual logical block size. */
export const ALIGN = 4096;
/**
 * At most this many bodies are written through slots at once (128 MiB of address space, resident
 * only as far as bodies have filled them); one more is written through the page cache, as before.
 */
const SLOTS = 64;

/** The one part of WebAssembly used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmMemoryClass = new (descriptor: { initial: number; maximum: number }) => WasmMemory;
const WasmMemoryClass = (globalThis as { WebAssembly?: { Memory: WasmMemoryClass } }).WebAssembly?.Memory;
/** WebAssembly's page: 64 KiB. */
const WASM_PAGE = 65536;

let memory: WasmMemory | null | undefined;
let carved = 0;
const free: Buffer[] = [];

function reserve(): WasmMemory | null {
  if (memory !== undefined) return memory;
  try {
    if (!WasmMemoryClass) throw new Error('no WebAssembly');
    const pages = (SLOTS * SLOT_BYTES) / WASM_PAGE;
    memory = new WasmMemoryClass({ initial: pages, maximum: pages });
  } catch {
    memory = null; // no WebAssembly (node --jitless), or no address space: bodies go through the page cache
  }
  return memory;
}

/**
 * Makes the slots' memory now, at store open, rather than for the first large body. V8 counts the
 * whole Memory (128 MiB, resident only as slots fill) as external memory the moment it is made, and
 * that starts a mark-compact at once ("external memory pressure"): measured 20–40 ms of GC and
 * ~7 ms for the allocation itself in the middle of the first large APPEND of every server process
 * (bench:append, issue 23). At open nobody waits for it.
 */
export function reserveSlots(): void {
  reserve();
}

/** A free aligned slot of SLOT_BYTES, or null when none is left (or none can be made). */
export function takeSlot(): Buffer | null {
  const slot = free.pop();
  if (slot) return slot;
  const m = reserve();
  if (!m || carved + SLOT_BYTES > m.buffer.byteLength) return null;
  const made = Buffer.from(m.buffer, carved, SLOT_BYTES);
  carved += SLOT_BYTES;
  return made;
}

/** Gives a slot back; no write may still be reading it and no parse its bytes. */
export function giveSlot(slot: Buffer): void {
  free.push(slot);
}

/** For tests: slots made and slots free, and whether their memory is made yet. */
export function directSlots(): { made: number; free: number; reserved: boolean } {
  return { made: carved / SLOT_BYTES, free: free.length, reserved: memory !== undefined };
}

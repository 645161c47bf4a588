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
 * of GROUP_SLOTS × SLOT_BYTES is made at store open (reserveSlots), more as needed up to SLOTS, and cut into slots; its pages become resident only as
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
/**
 * The slots' memory is made GROUP_SLOTS at a time (16 MiB): one group at store open, another only
 * when every slot made so far is lent out at once. Why not all 64 at open: V8 counts a
 * WebAssembly.Memory's whole size as external memory, and with 128 MiB of it a server taking
 * APPENDs of 250 KB–1 MB over TLS mostly fell into a Mark-Compact every ~10–15 APPENDs (3–18 per
 * 100, each freeing 2–4 MB of a ~20 MB heap) and stayed there; with 16 MiB it did in 1 run of 18
 * (bench/RESULTS.md, "APPENDs of 10–300 KB"). A later group costs one mark-compact ("external
 * memory pressure") when it is made, under a load that needs it.
 */
const GROUP_SLOTS = 8;

/** The one part of WebAssembly used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmMemoryClass = new (descriptor: { initial: number; maximum: number }) => WasmMemory;
const WasmMemoryClass = (globalThis as { WebAssembly?: { Memory: WasmMemoryClass } }).WebAssembly?.Memory;
/** WebAssembly's page: 64 KiB. */
const WASM_PAGE = 65536;

/** The groups made so far; null once making one failed (no WebAssembly, no address space). */
let groups: WasmMemory[] | null = [];
/** Slots cut from the newest group so far. */
let carvedInGroup = GROUP_SLOTS;
let made = 0;
const free: Buffer[] = [];

/** Makes one more group; false when none can be made (then bodies go through the page cache). */
function addGroup(): boolean {
  if (!groups || made + GROUP_SLOTS > SLOTS) return false;
  try {
    if (!WasmMemoryClass) throw new Error('no WebAssembly');
    const pages = (GROUP_SLOTS * SLOT_BYTES) / WASM_PAGE;
    groups.push(new WasmMemoryClass({ initial: pages, maximum: pages }));
    carvedInGroup = 0;
    return true;
  } catch {
    if (groups.length === 0) groups = null; // no WebAssembly (node --jitless): never try again
    return false;
  }
}

/**
 * Makes the first group of the slots' memory now, at store open, rather than for the first large
 * body. V8 counts a Memory's whole size (resident only as slots fill) as external memory the
 * moment it is made, and that starts a mark-compact at once ("external memory pressure"):
 * measured 20–40 ms of GC and ~7 ms for the allocation itself in the middle of the first large
 * APPEND of every server process (bench:append, issue 23). At open nobody waits for it.
 */
export function reserveSlots(): void {
  if (groups && groups.length === 0) addGroup();
}

/** A free aligned slot of SLOT_BYTES, or null when none is left (or none can be made). */
export function takeSlot(): Buffer | null {
  const slot = free.pop();
  if (slot) return slot;
  if (carvedInGroup === GROUP_SLOTS && !addGroup()) return null;
  const group = groups![groups!.length - 1]!;
  const cut = Buffer.from(group.buffer, carvedInGroup * SLOT_BYTES, SLOT_BYTES);
  carvedInGroup++;
  made++;
  return cut;
}

/** Gives a slot back; no write may still be reading it and no parse its bytes. */
export function giveSlot(slot: Buffer): void {
  free.push(slot);
}

/** For tests: slots made and slots free, and whether their memory is made yet. */
export function directSlots(): { made: number; free: number; reserved: boolean; groups: number } {
  return { made, free: free.length, reserved: groups === null || groups.length > 0, groups: groups?.length ?? 0 };
}

/**
 * Large message bodies live as content-addressed files: blobs/<first two hex>/<sha256 hex>.
 *
 * Durability order (see docs/architecture.md, "Storage (SQLite)"): bytes are written to tmp/, the
 * file is renamed into place, and its data fdatasynced and its directory fsynced — all before the
 * transaction that references it commits, the syncs side by side and off the event loop (`install`;
 * when a file is already at the target, the data is synced before the rename instead). A crash in between leaves an unreferenced file, never a reference to a
 * missing one; `sweep()` removes such orphans at a later open — only when blobs/ is known to belong
 * to this database (store-identity.ts) and only once they are old enough. Anything in blobs/ that
 * is not a body file (a stray file or folder) is reported and left alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fdatasync, fsync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SyncThread } from './sync-thread.js';
import { KeptBytes } from './kept-bytes.js';
import { ALIGN, PIECE_BYTES, giveSlot, takeSlot } from './direct-slots.js';

/** New body files: write-only, created or truncated, and written past the page cache (direct-slots.ts). */
const DIRECT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_DIRECT ?? 0);

export class BlobFiles {
  readonly root: string;
  readonly tmp: string;

  constructor(
    directory: string,
    /** Where a new body file's fdatasync runs (default: libuv's thread pool). */
    private readonly syncThread?: SyncThread,
    /** Whether new body files are written with O_DIRECT (SqliteStoreOptions.directBodyWrites). */
    directWrites = true,
    /**
     * `clearTmp` (default true): empty tmp/ now — what is there was left by a process that died. A
     * process joining a folder another one maintains (SqliteStoreOptions.shared) leaves it alone:
     * the files there are that process's bodies being written.
     */
    options: { clearTmp?: boolean } = {},
  ) {
    this.direct = directWrites && constants.O_DIRECT !== undefined;
    this.root = join(directory, 'blobs');
    this.tmp = join(directory, 'tmp');
    // 0700 and 0600 throughout: these are everybody's messages.
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    if (options.clearTmp !== false) rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  pathFor(sha256: Buffer): string {
    const hex = sha256.toString('hex');
    return join(this.root, hex.slice(0, 2), hex);
  }

  /**
   * Whether new body files may be written with O_DIRECT: until the file system refuses it (tmpfs,
   * some network file systems: EINVAL), then never again in this process.
   */
  private direct: boolean;

  async createTemp(): Promise<TempBlob> {
    const path = join(this.tmp, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const slot = takeSlot();
    if (slot && this.direct) {
      try {
        return new TempBlob(path, await open(path, DIRECT_FLAGS, 0o600), this.syncThread, { slot, direct: true, refused: () => (this.direct = false) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') {
          giveSlot(slot);
          throw err;
        }
        this.direct = false;
      }
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'w', 0o600);
    } catch (err) {
      if (slot) giveSlot(slot);
      throw err;
    }
    // Without O_DIRECT the slot still spares the copy kept for the parse (and its fresh Buffers).
    return new TempBlob(path, handle, this.syncThread, slot ? { slot, direct: false, refused: () => undefined } : undefined);
  }

  /**
   * fdatasync of a finished temp file by its path, off the event loop (on the store's sync thread
   * when there is one, so logins hashing passwords on libuv's pool cannot delay it).
   */
  async syncTemp(tempPath: string): Promise<void> {
    const handle = await open(tempPath, 'r');
    try {
      if (this.syncThread) await this.syncThread.fdatasync(handle.fd);
      else await handle.datasync();
    } catch (err) {
      throw withPath(err, tempPath);
    } finally {
      await handle.close();
    }
  }

  /** Bodies renamed into place whose referencing transaction has not finished yet (by hex digest). */
  private readonly installing = new Map<string, number>();

  /**
   * Set when other processes share the folder (shared-upkeep.ts): each install is announced to them
   * (a committed row) before its file is renamed into place, and withdrawn by `installed()`.
   */
  registry: { register(sha256: Buffer): Promise<void>; unregister(sha256: Buffer): void } | undefined;

  /**
   * Makes a finished temp file the durable body file of `sha256`, before the transaction that will
   * reference it: its data fdatasynced, renamed into blobs/, the new directory entry fsynced — the
   * syncs off the event loop. Until `installed()` is called, a pending removal of the same bytes
   * (released by an expunge a moment ago) leaves the file alone: the caller is about to reference
   * it. Should that transaction fail, the file is an orphan like one left by a crash, swept at a
   * later open.
   *
   * When nothing lies at the target yet (the usual case: new bytes), the rename comes first and
   * the file's fdatasync and the directory's fsync then run side by side, on two sync threads:
   * both must be done before the COMMIT, their order does not matter. Until they are, no row
   * refers to the name, so a crash can leave at worst an unreferenced file with incomplete bytes,
   * which the next store of the same bytes replaces (below) and the sweep removes. When a file is
   * already there — an identical body installed by another session a moment ago, one a committed
   * row may refer to, or an orphan left by a crash — the temp file is fdatasynced *before* it is
   * renamed over it, so what lies at the target is complete and durable at every moment. The
   * check and the rename are one synchronous step: no other install in this process comes between.
   * `closed`: the temp file's close (TempBlob.finish's), awaited beside the syncs.
   */
  async install(tempPath: string, sha256: Buffer, closed?: Promise<void>): Promise<void> {
    const key = sha256.toString('hex');
    this.installing.set(key, (this.installing.get(key) ?? 0) + 1);
    let registered = false;
    try {
      if (this.registry) {
        await this.registry.register(sha256);
        registered = true;
      }
      const target = this.pathFor(sha256);
      const dir = join(target, '..');
      // A folder that is there already is not awaited (an await, even of nothing, lets the caller
      // run on first): the rename and both syncs are under way when install returns, so the
      // caller's parse of the body runs while the sync threads wait for the disk, not before they
      // start (issue 23: a 330 KB APPEND's parse came first, then the syncs, one after the other).
      // Only a folder still to be made waits for the pool's mkdir.
      if (!this.folderThere(dir)) await this.ensureDir(dir);
      if (lstatSync(target, { throwIfNoEntry: false }) !== undefined) {
        await this.syncTemp(tempPath);
        this.renameInto(tempPath, target, dir);
        await Promise.all([this.syncPath(dir, true), closed]);
        return;
      }
      // Opened before the rename: the descriptor names this body's inode whatever the path does
      // later. The folder is opened after the rename (which makes it again if it was removed) and
      // before either sync starts, so its open never waits behind the file's fdatasync on the loop.
      const file = openSync(tempPath, 'r');
      let folder: number | undefined;
      try {
        this.renameInto(tempPath, target, dir);
        folder = openSync(dir, 'r');
        // The temp file's own close (TempBlob.finish) may still be on its way: it changes nothing
        // on disk, but its error, if any, fails the install as it failed finish() before.
        await Promise.all([this.syncFd(file, target, false), this.syncFd(folder, dir, true), closed]);
      } finally {
        closeSync(file);
        if (folder !== undefined) closeSync(folder);
      }
    } catch (err) {
      this.installed(sha256, registered);
      throw err;
    }
  }

  /** blobs/ subfolders this process made or found: not made again for every body. */
  private readonly knownDirs = new Set<string>();

  /**
   * Makes a blobs/ subfolder, on the thread pool, once per process: making a folder allocates an
   * inode, which on a busy ext4 cost ~0.2 ms of event-loop time for each new prefix of a young
   * store (up to 256 of them; bench/lmtp-steps.ts), and an mkdir per body is a syscall per body.
   */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    // A folder made before this process started (most of them, once a store has some large mail)
    // is found by a stat of cached metadata, without the trip through the pool an mkdir takes.
    if (lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) await mkdir(dir, { recursive: true, mode: 0o700 });
    this.knownDirs.add(dir);
  }

  /**
   * Whether a blobs/ subfolder is known to be there — seen by this process before, or found now by
   * a stat of cached metadata (most of them, once a store has some large mail) — without an await.
   */
  private folderThere(dir: string): boolean {
    if (this.knownDirs.has(dir)) return true;
    if (lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) return false;
    this.knownDirs.add(dir);
    return true;
  }

  /** renameSync into blobs/, making the folder again if someone removed it since (ensureDir). */
  private renameInto(tempPath: string, target: string, dir: string): void {
    try {
      renameSync(tempPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || lstatSync(tempPath, { throwIfNoEntry: false }) === undefined) throw err;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      renameSync(tempPath, target);
    }
  }

  private async syncFd(fd: number, path: string, full: boolean): Promise<void> {
    try {
      if (this.syncThread) await (full ? this.syncThread.fsync(fd) : this.syncThread.fdatasync(fd));
      else await new Promise<void>((resolve, reject) => (full ? fsync : fdatasync)(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw withPath(err, path);
    }
  }

  /** fsync of a directory (full) or fdatasync of a file, by path. */
  private async syncPath(path: string, full: boolean): Promise<void> {
    const fd = openSync(path, 'r');
    try {
      await this.syncFd(fd, path, full);
    } finally {
      closeSync(fd);
    }
  }

  /** The transaction that was to reference an `install`ed body has finished (either way). */
  installed(sha256: Buffer, registered = true): void {
    if (registered) this.registry?.unregister(sha256);
    const key = sha256.toString('hex');
    const n = (this.installing.get(key) ?? 1) - 1;
    if (n > 0) this.installing.set(key, n);
    else this.installing.delete(key);
  }

  /** Moves a synced temp file into place, synchronously inside the referencing transaction (import). */
  installSync(tempPath: string, sha256: Buffer): void {
    const target = this.pathFor(sha256);
    const dir = join(target, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    renameSync(tempPath, target);
    fsyncDirSync(dir);
  }

  private readonly pendingRemovals = new Map<string, { timer: NodeJS.Timeout; run: () => void }>();

  /**
   * Deletes a released file after `graceMs` (0: now), unless `stillReferenced()` says its bytes
   * came back meanwhile. Pending deletions run at once on `flushPendingRemovals()` (store close).
   */
  removeLater(sha256: Buffer, graceMs: number, stillReferenced: () => boolean, onError: (err: unknown) => void): void {
    const key = sha256.toString('hex');
    clearTimeout(this.pendingRemovals.get(key)?.timer);
    this.pendingRemovals.delete(key);
    const run = (): void => {
      clearTimeout(this.pendingRemovals.get(key)?.timer);
      this.pendingRemovals.delete(key);
      try {
        if (!this.installing.has(key) && !stillReferenced()) this.removeSync(sha256);
      } catch (err) {
        onError(err);
      }
    };
    if (graceMs <= 0) return run();
    const timer = setTimeout(run, graceMs);
    timer.unref();
    this.pendingRemovals.set(key, { timer, run });
  }

  /** Whether the file of this body (hex SHA-256) is in place but its transaction has not committed yet. */
  isInstalling(hex: string): boolean {
    return this.installing.has(hex);
  }

  /** Whether the file of this body (hex SHA-256) is released and waiting out its grace period. */
  isPendingRemoval(hex: string): boolean {
    return this.pendingRemovals.has(hex);
  }

  /** Runs every pending deletion now (the store is closing: no reader can still need them). */
  flushPendingRemovals(): void {
    for (const { run } of [...this.pendingRemovals.values()]) run();
  }

  /** Deletes the file of a content whose last reference was just committed away. */
  removeSync(sha256: Buffer): void {
    try {
      unlinkSync(this.pathFor(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  discardSync(tempPath: string): void {
    rmSync(tempPath, { force: true });
  }

  /**
   * Every body file under blobs/ (`<2 hex>/<64 hex>` starting with the same two digits), and every
   * other entry as a stray — except `ignore` (the identity marker) at the top. Paths of strays are
   * relative to blobs/. Nothing is read but directory entries (and the age of each body file).
   */
  list(ignore: ReadonlySet<string> = new Set()): BlobListing {
    const files: BlobFile[] = [];
    const strays: string[] = [];
    const now = Date.now();
    for (const top of readdirSync(this.root, { withFileTypes: true })) {
      if (ignore.has(top.name)) continue;
      if (!top.isDirectory() || !/^[0-9a-f]{2}$/.test(top.name)) {
        strays.push(top.name);
        continue;
      }
      const dir = join(this.root, top.name);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isFile() || !/^[0-9a-f]{64}$/.test(entry.name) || !entry.name.startsWith(top.name)) {
          strays.push(`${top.name}/${entry.name}`);
          continue;
        }
        const path = join(dir, entry.name);
        // ctime too: a file copied in keeps an old mtime, but its ctime says when it arrived here.
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st) continue;
        files.push({ hex: entry.name, path, ageMs: now - Math.max(st.mtimeMs, st.ctimeMs), size: st.size });
      }
    }
    return { files, strays };
  }

  /**
   * Removes body files no content row refers to (left by a crash between rename and commit, or by a
   * stop during a released file's grace period) once they are at least `graceMs` old. Younger
   * orphans wait for a later start; strays are never touched.
   */
  sweep(isReferenced: (hex: string) => boolean, graceMs: number, ignore?: ReadonlySet<string>): SweepResult {
    const { files, strays } = this.list(ignore);
    let removed = 0;
    let young = 0;
    for (const f of files) {
      if (isReferenced(f.hex)) continue;
      if (f.ageMs < graceMs) {
        young++;
        continue;
      }
      rmSync(f.path, { force: true });
      removed++;
    }
    return { removed, young, strays };
  }

  /** Writes a small file under blobs/ durably (temp, fsync, rename, fsync of blobs/). */
  writeSmallFileSync(name: string, text: string): void {
    const temp = join(this.root, `.${name}.${randomBytes(4).toString('hex')}`);
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.root, name));
    fsyncDirSync(this.root);
  }
}

export interface BlobFile {
  hex: string;
  path: string;
  /** Since the file was written or arrived here (ms). */
  ageMs: number;
  size: number;
}

export interface BlobListing {
  files: BlobFile[];
  /** Entries that are not body files, relative to blobs/. */
  strays: string[];
}

export interface SweepResult {
  removed: number;
  /** Orphans younger than the grace period, kept for now. */
  young: number;
  strays: string[];
}

/** Writes to a temp body file are gathered into pieces of up to this many bytes (one write each). */
const WRITE_PIECE = 1024 * 1024;
/**
 * A body up to this size is also kept in memory while it is written, so that it is parsed from
 * there rather than read back from the file (the parse needs it whole in memory either way).
 */
export const KEEP_FOR_PARSE_MAX = 4 * 1024 * 1024;

/** A temp body file opened with O_DIRECT: the aligned slot its bytes are gathered in, and whom to tell if it is refused. */
export interface DirectWrite {
  slot: Buffer;
  /** Whether the file was opened with O_DIRECT (else the slot's pieces go through the page cache). */
  direct: boolean;
  /** The file system refused an O_DIRECT write (EINVAL): later bodies go through the page cache. */
  refused: () => void;
}

export class TempBlob {
  private readonly hash = createHash('sha256');
  size = 0;
  /** Through the page cache: bytes not yet written (at most WRITE_PIECE). */
  private unwritten: Buffer[] = [];
  private unwrittenSize = 0;
  /**
   * Every byte so far, while the body is no larger than KEEP_FOR_PARSE_MAX (kept-bytes.ts): from the
   * start without a slot, else from when the body outgrew its slot.
   */
  private kept: KeptBytes | null;
  /**
   * With O_DIRECT (direct-slots.ts): the slot the bytes are copied into, a ring — byte n of the body
   * at n % slot.length — from which whole pieces are written. While the body fits, the slot holds
   * all of it, and it is what is handed to the parse.
   */
  private slot: Buffer | null;
  private inSlot: boolean;
  /** Bytes written to the file so far (with a slot: whole pieces until the last write). */
  private written = 0;
  /** Whether the file is written with O_DIRECT (the flag it was opened with). */
  private direct: DirectWrite | undefined;

  constructor(
    readonly path: string,
    private handle: FileHandle,
    private readonly syncThread?: SyncThread,
    direct?: DirectWrite,
  ) {
    this.direct = direct?.direct ? direct : undefined;
    this.slot = direct?.slot ?? null;
    this.inSlot = this.slot !== null;
    this.kept = this.slot ? null : new KeptBytes(KEEP_FOR_PARSE_MAX);
  }

  /**
   * Takes the next piece of the body. Pieces are gathered and written together, up to a megabyte
   * at a time: each write is a trip through libuv's thread pool, and an APPEND literal or an LMTP
   * message arrives in the socket's 64 KiB reads.
   */
  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    const start = this.size;
    this.size += chunk.length;
    const slot = this.slot;
    if (slot && this.inSlot && this.size > slot.length) {
      // Outgrown: from now on the ring is reused, so what the parse needs is kept apart.
      this.inSlot = false;
      if (this.size <= KEEP_FOR_PARSE_MAX) {
        // Already past the slot, it is kept at its limit's size from the start: one buffer, not
        // a slot's worth copied into one and then into another twice its size.
        this.kept = new KeptBytes(KEEP_FOR_PARSE_MAX, KEEP_FOR_PARSE_MAX);
        this.kept.push(slot.subarray(0, start));
      }
    }
    if (!this.inSlot) {
      if (this.kept && this.size <= KEEP_FOR_PARSE_MAX) this.kept.push(chunk);
      else this.dropKept();
    }
    if (slot) return this.toSlot(slot, chunk, start);
    this.unwritten.push(chunk);
    this.unwrittenSize += chunk.length;
    if (this.unwrittenSize >= WRITE_PIECE) await this.flush();
  }

  /** Copies `chunk` (body bytes from `start` on) into the ring, writing each piece once it is full. */
  private async toSlot(slot: Buffer, chunk: Buffer, start: number): Promise<void> {
    for (let from = 0; from < chunk.length; ) {
      const at = (start + from) % slot.length;
      // Never over bytes not yet written: at most up to the ring's end, and the ring's free room.
      const room = slot.length - (start + from - this.written);
      const n = chunk.copy(slot, at, from, from + Math.min(chunk.length - from, slot.length - at, room));
      from += n;
      while (start + from - this.written >= PIECE_BYTES) await this.writeOut(PIECE_BYTES, PIECE_BYTES);
    }
  }

  /**
   * Writes `length` bytes of the slot (a multiple of ALIGN) at the file's end: the next `real` bytes
   * of the body and, for the last write, zeros after them. Should the file system refuse O_DIRECT
   * after all, the file is opened again without it and the real bytes go through the page cache —
   * and, through the store (DirectWrite.refused), every later body's.
   */
  private async writeOut(length: number, real: number): Promise<void> {
    const slot = this.slot!;
    const offset = this.written % slot.length;
    try {
      for (let at = 0; at < length; ) {
        const { bytesWritten } = await this.handle.write(slot, offset + at, length - at, this.written + at);
        if (bytesWritten === 0) throw new Error('a write of a body file wrote nothing');
        at += bytesWritten;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || !this.direct) throw withPath(err, this.path);
      // O_DIRECT refused (an unusual block size, a file system that accepts the flag but not the
      // writes): the file is written again from this piece on, through the page cache.
      this.direct.refused();
      this.direct = undefined;
      await this.handle.close().catch(() => undefined);
      this.handle = await open(this.path, 'r+');
      for (let at = 0; at < real; ) {
        const { bytesWritten } = await this.handle.write(slot, offset + at, real - at, this.written + at);
        if (bytesWritten === 0) throw withPath(new Error('a write of a body file wrote nothing'), this.path);
        at += bytesWritten;
      }
    }
    this.written += real;
  }

  private async flush(): Promise<void> {
    const pieces = this.unwritten;
    this.unwritten = [];
    this.unwrittenSize = 0;
    try {
      let { bytesWritten: skip } = await this.handle.writev(pieces);
      // A short write (rare: a signal, a nearly full disk) goes on piece by piece.
      for (const p of pieces) {
        if (skip >= p.length) {
          skip -= p.length;
          continue;
        }
        for (let offset = skip; offset < p.length; ) offset += (await this.handle.write(p, offset, p.length - offset)).bytesWritten;
        skip = 0;
      }
    } catch (err) {
      throw withPath(err, this.path);
    }
  }

  /**
   * Writes what is left and starts closing the file (`closed`); returns the SHA-256 of everything written, and the
   * bytes themselves when they were small enough to keep — a view of reused memory (the slot, or a
   * KeptBytes buffer), to be given back with `release` once they are parsed. Not synced yet: most
   * bodies that turn out to be stored already (the same message for several recipients) are only
   * discarded, so the caller syncs (BlobFiles.install) just the ones it will install.
   */
  async finish(): Promise<{ sha256: Buffer; body: Buffer | undefined; release: () => void; closed: Promise<void> }> {
    try {
      if (this.unwrittenSize > 0) await this.flush();
      if (this.slot && this.size > this.written) await this.writeLast(this.slot);
    } catch (err) {
      await this.handle.close().catch(() => undefined);
      this.dropKept();
      this.dropSlot();
      throw withPath(err, this.path);
    }
    // Every byte is written: the close is a trip through the thread pool that nothing after it
    // needs to wait for (install opens the file again by its path, a discard unlinks it), so it
    // runs while the body is renamed, synced and parsed. Its error reaches whoever awaits `closed`
    // (BlobFiles.install does); the catch only keeps a close nobody awaits from being unhandled.
    const closed = this.handle.close().catch((err: unknown) => {
      throw withPath(err, this.path);
    });
    closed.catch(() => undefined);
    const sha256 = this.hash.digest();
    if (this.inSlot && this.slot) {
      // Lent to the caller until release (the parse reads it).
      const slot = this.slot;
      this.slot = null;
      let released = false;
      return {
        sha256,
        body: slot.subarray(0, this.size),
        release: () => {
          if (!released) giveSlot(slot);
          released = true;
        },
        closed,
      };
    }
    this.dropSlot();
    const kept = this.kept;
    this.kept = null;
    return { sha256, body: kept?.bytes(), release: () => kept?.release(), closed };
  }

  /**
   * The last, partial piece: with O_DIRECT padded with zeros to ALIGN and written whole, then the
   * file cut to the body's size (the fdatasync at install makes the size durable with the data).
   * The zeros go after the body's end in the slot, where nothing of the body is.
   */
  private async writeLast(slot: Buffer): Promise<void> {
    const tail = this.size - this.written;
    if (!this.direct) return this.writeOut(tail, tail);
    const offset = this.written % slot.length;
    const padded = Math.ceil(tail / ALIGN) * ALIGN;
    slot.fill(0, offset + tail, offset + padded);
    await this.writeOut(padded, tail);
    if (this.direct && padded !== tail) await this.handle.truncate(this.size);
  }

  async abort(): Promise<void> {
    this.dropKept();
    await this.handle.close().catch(() => undefined);
    this.dropSlot();
    rmSync(this.path, { force: true });
  }

  /** Gives the slot back (no write is reading it: every write was awaited). */
  private dropSlot(): void {
    if (this.slot) giveSlot(this.slot);
    this.slot = null;
  }

  private dropKept(): void {
    this.kept?.release();
    this.kept = null;
  }
}

/** Writes through a FileHandle fail without naming the file; logs should. */
function withPath(err: unknown, path: string): unknown {
  if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined) (err as NodeJS.ErrnoException).path = path;
  return err;
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Large message bodies live as content-addressed files: blobs/<first two hex>/<sha256 hex>.
 *
 * Durability order (see docs/architecture.md, "Storage (SQLite)"): bytes are written to tmp/, the
 * file is fsynced, renamed into place and its directory fsynced — all before the transaction that
 * references it commits. A crash in between leaves an unreferenced file, never a reference to a
 * missing one; `sweep()` removes such orphans on the next open.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export class BlobFiles {
  readonly root: string;
  readonly tmp: string;

  constructor(directory: string) {
    this.root = join(directory, 'blobs');
    this.tmp = join(directory, 'tmp');
    // 0700 and 0600 throughout: these are everybody's messages.
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  pathFor(sha256: Buffer): string {
    const hex = sha256.toString('hex');
    return join(this.root, hex.slice(0, 2), hex);
  }

  async createTemp(): Promise<TempBlob> {
    const path = join(this.tmp, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    return new TempBlob(path, await open(path, 'w', 0o600));
  }

  /** Moves a synced temp file into place. Runs synchronously inside the referencing transaction. */
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
        if (!stillReferenced()) this.removeSync(sha256);
      } catch (err) {
        onError(err);
      }
    };
    if (graceMs <= 0) return run();
    const timer = setTimeout(run, graceMs);
    timer.unref();
    this.pendingRemovals.set(key, { timer, run });
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

  /** Removes files no content row refers to (left by a crash between rename and commit). */
  sweep(isReferenced: (hex: string) => boolean): number {
    let removed = 0;
    for (const prefix of readdirSync(this.root)) {
      const dir = join(this.root, prefix);
      for (const name of readdirSync(dir)) {
        if (!isReferenced(name)) {
          rmSync(join(dir, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}

export class TempBlob {
  private readonly hash = createHash('sha256');
  size = 0;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
  }

  /** fsyncs and closes; returns the SHA-256 of everything written. */
  async finish(): Promise<Buffer> {
    await this.handle.sync();
    await this.handle.close();
    return this.hash.digest();
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    rmSync(this.path, { force: true });
  }
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

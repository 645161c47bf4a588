/**
 * The WAL file made long enough, at store open, that commits overwrite it instead of growing it.
 *
 * Every acknowledged write waits for an fdatasync of the WAL (wal-sync.ts). When the commit made
 * the file longer, that fdatasync also has to commit the file's new size and blocks to the
 * filesystem's journal; when it only overwrote blocks the file already had, it writes the data and
 * nothing else. On the bench machine's ext4, 64 KB writes each followed by an fdatasync took a
 * median 0.4–2.3 ms appended to a file against 0.13–0.32 ms overwriting one (alternated, NOISY,
 * bench/RESULTS.md, issue 23). SQLite starts the WAL over from its first frame after each complete
 * checkpoint, so a long-running store overwrites a WAL grown once; but the WAL is deleted at every
 * clean close, so after each start every commit grew it, until the first checkpoint — the whole of
 * a short run of sequential APPENDs (bench:append).
 *
 * Zeros written past the file's end are safe: SQLite knows where its frames end from the WAL
 * index, not from the file's size, and recovery after a crash stops at the first frame whose
 * checksum or salt does not match — a zeroed one never does (https://sqlite.org/walformat.html).
 * Nothing else writes meanwhile: this runs synchronously during open, before the store has taken
 * any write but its own, and only past what SQLite wrote. The fdatasync that follows it in open
 * makes the blocks the file's own on disk. `journal_size_limit` (64 MiB, database.ts) cuts the
 * file back only when it is longer than that, so a prefill up to it stays.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { Logger } from '../../util/logger.js';

const CHUNK = 1024 * 1024;

/** Extends `walPath` with zeros to `bytes` if it is shorter; a failure (a full disk) undoes the extension and is only logged. */
export function prefillWal(walPath: string, bytes: number, logger?: Logger): void {
  let fd: number;
  try {
    fd = openSync(walPath, 'r+');
  } catch {
    return; // no WAL yet: SQLite makes it with the first write, and it grows as before
  }
  let size = 0;
  try {
    size = fstatSync(fd).size;
    if (size >= bytes) return;
    const zeros = Buffer.alloc(Math.min(CHUNK, bytes - size));
    for (let at = size; at < bytes; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - at), at);
  } catch (err) {
    logger?.warn({ err, file: walPath }, 'could not make the WAL file longer in advance; commits grow it as they go');
    try {
      ftruncateSync(fd, size);
    } catch {
      // Left longer: harmless, the zeros are never read as frames.
    }
  } finally {
    closeSync(fd);
  }
}

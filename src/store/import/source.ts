/** What the Maildir and mbox readers hand the importer: one message, its folder, flags and date. */
import type { Flag } from '../types.js';

export interface SourceMessage {
  /** Target mailbox name, levels separated by "/" (the store delimiter), e.g. "Archive/2024". */
  mailbox: string;
  /** The bytes as found in the source (line endings not yet normalised). */
  raw: Buffer;
  flags: Flag[];
  internalDate: Date;
  /** Where it came from, for error messages ("path/cur/123:2,S", "file.mbox@1024"). */
  origin: string;
}

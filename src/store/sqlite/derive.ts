/** What a new body is parsed for, once: structure, search columns, sort keys, preview (message-writes.ts, parse-thread.ts). */
import { messagePreview, parseMessage } from '../../mime/index.js';
import { computeSearchColumns } from './search-columns.js';
import { computeSortColumns } from './sort-columns.js';
import type { SearchColumns, SortColumns } from './schema.js';

export interface Parsed {
  structureJson: string;
  search: SearchColumns;
  sort: SortColumns;
  /** RFC 8970 preview text (content_preview). */
  preview: string;
}

/** Everything a new body is parsed for, once: structure, search columns, sort keys. */
export function deriveContent(raw: Buffer): Parsed {
  const structure = parseMessage(raw);
  return {
    structureJson: JSON.stringify(structure),
    search: computeSearchColumns(raw, structure),
    sort: computeSortColumns(raw, structure),
    preview: messagePreview(raw, structure),
  };
}

/** The human-readable form of a `postroom check` report. */
import type { CheckReport } from '../../store/sqlite/index.js';

const MAX_LINES = 20;

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function capped<T>(items: readonly T[], line: (item: T) => string): string[] {
  const out = items.slice(0, MAX_LINES).map((i) => `    ${line(i)}`);
  if (items.length > MAX_LINES) out.push(`    … and ${items.length - MAX_LINES} more (--json lists up to 1,000)`);
  return out;
}

export function formatReport(r: CheckReport): string {
  const out: string[] = [];
  out.push(`postroom check of ${r.directory} (${r.online ? 'online, inside the running server' : 'no server running'}), ${(r.durationMs / 1000).toFixed(1)} s`);

  const pause = r.online ? `; the server paused up to ${r.database.longestStallMs} ms` : '';
  out.push(`  database    ${r.database.file}: ${r.database.problems.length === 0 ? 'ok' : 'DAMAGED'} (quick_check, ${r.database.method}${pause})`);
  out.push(...capped(r.database.problems, (p) => p));

  const id = r.identity;
  if (id.matches) out.push(`  identity    blobs/ and mail.sqlite belong together (store ${id.database})`);
  else if (id.marker === null) out.push('  identity    blobs/ has no identity marker yet (written at the next start)');
  else out.push(`  identity    MISMATCH: blobs/ says ${id.marker}, mail.sqlite is ${id.database ?? 'without identity'}: were they restored from different backups?`);

  const b = r.bodies;
  out.push(`  bodies      ${plural(b.checked, 'body', 'bodies')} checked (${mb(b.bytes)}): ${b.damaged.length === 0 ? 'all whole and unaltered' : `${b.damaged.length} DAMAGED`}`);
  out.push(
    ...capped(b.damaged, (d) => {
      const who = d.examples.map((e) => `${e.user} ${e.mailbox} UID ${e.uid}`).join('; ');
      return `${d.place}: ${d.problem} — ${plural(d.messages, 'message')}${who ? ` (${who}${d.messages > d.examples.length ? '; …' : ''})` : ''}`;
    }),
  );

  const refs = r.references;
  const refProblems = refs.wrongCounts.length + refs.missingContents.length + refs.missingStructures.length;
  out.push(`  references  ${refProblems === 0 ? 'ok' : 'DAMAGED'}`);
  out.push(...capped(refs.missingContents, (m) => `${m.user} ${m.mailbox} UID ${m.uid}: its body (content ${m.contentId}) is missing from the database`));
  out.push(...capped(refs.wrongCounts, (w) => `content ${w.contentId}: reference count ${w.recorded}, but ${w.actual} messages hold it`));
  out.push(...capped(refs.missingStructures, (c) => `content ${c}: its parsed structure is missing (ENVELOPE/BODYSTRUCTURE cannot be answered)`));

  const f = r.files;
  const pending = f.pendingDeletion > 0 ? `; ${f.pendingDeletion} released, deleted after their grace period` : '';
  out.push(`  blobs/      ${plural(f.checked, 'body file')}${pending}`);
  if (f.orphans.length > 0) {
    out.push(`    ${plural(f.orphans.length, 'file')} no message refers to (left by an interrupted write; removed at a start once old enough):`);
    out.push(...capped(f.orphans, (o) => `  ${o.path} (${o.size} bytes, ${o.ageMinutes} min)`));
  }
  if (f.strays.length > 0) {
    out.push(`    ${f.strays.length === 1 ? '1 entry that is not a message file' : `${f.strays.length} entries that are not message files`} (left alone; move them, or use --quarantine):`);
    out.push(...capped(f.strays, (s) => `  ${s}`));
  }
  if (r.quarantined.length > 0) {
    out.push(`  quarantined ${plural(r.quarantined.length, 'entry', 'entries')} moved:`);
    out.push(...capped(r.quarantined, (q) => `${q.from} → ${q.to}`));
  }
  out.push(r.damaged ? 'result: DAMAGE FOUND (exit status 2); docs/sqlite.md, "Damaged data", says what to do' : 'result: nothing damaged');
  return `${out.join('\n')}\n`;
}

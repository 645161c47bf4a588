/**
 * What the search-column upgrade tests (SQLite v22, PostgreSQL v10) store and then ask: messages
 * whose subjects fold differently under i;unicode-casemap than under lower-casing, and the
 * answers SEARCH must give once their columns are redone.
 */
import assert from 'node:assert/strict';
import type { UserMailbox } from '../../src/store/types.js';

/** The five search columns, as both schemas name them (cm_* since the upgrade, hdr_* before). */
export const HEADER_COLUMNS = ['from', 'to', 'cc', 'bcc', 'subject'] as const;

const SUBJECTS = ['=?utf-8?q?Stra=C3=9Fe?= und Weg', '=?utf-8?b?77yh77yi77yj?= fullwidth', '=?utf-8?q?=C7=85emal?=', '=?utf-8?q?=EF=AC=81le?= ligature'];

/** Message i (0-based): subject i % 4 of Straße, ＡＢＣ, ǅemal, ﬁle; From "Person i <pi@example.org>". */
export function refoldMail(i: number): Buffer {
  return Buffer.from(
    `From: Person ${i} <p${i}@example.org>\r\nTo: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\nSubject: ${SUBJECTS[i % SUBJECTS.length]} ${i}\r\n\r\nbody ${i}\r\n`,
  );
}

/** The redone subjects of messages 0-3 as stored (titlecase, then NFKD). */
export const REFOLDED_SUBJECTS = ['STRAßE UND WEG 0', 'ABC FULLWIDTH 1', 'Dz\u030cEMAL 2', 'fiLE LIGATURE 3'];

/** SEARCH over 8 such messages (UIDs 1-8) after the upgrade: each answer the comparator gives. */
export async function assertRefoldedAnswers(u: UserMailbox, mailboxId: string): Promise<void> {
  const header = (name: string, value: string): Promise<number[]> => u.search(mailboxId, { type: 'header', name, value });
  assert.deepEqual(await header('Subject', 'STRASSE'), [], 'ß has no simple titlecase');
  assert.deepEqual(await header('Subject', 'straße'), [1, 5]);
  assert.deepEqual(await header('Subject', 'abc'), [2, 6], 'fullwidth letters decompose');
  assert.deepEqual(await header('Subject', 'ǆemal'), [3, 7]);
  assert.deepEqual(await header('Subject', 'file'), [], 'ﬁ decomposes to small f i');
  assert.deepEqual(await header('Subject', 'ﬁle'), [4, 8]);
  assert.deepEqual(await header('To', 'JURGEN'), [], 'ü is U + diaeresis: JU\u0308RGEN');
  assert.deepEqual(await header('To', 'jürgen'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await header('From', 'P3@EXAMPLE'), [4]);
}

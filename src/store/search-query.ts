/**
 * A storage-neutral search tree. The IMAP layer turns SEARCH keys into this; sequence numbers,
 * \Recent, NEW/OLD and saved results are resolved to UID sets by the session before the store sees
 * the query. Text matching is case-insensitive substring matching on decoded text (RFC 3501 §6.4.4,
 * RFC 2047 encoded-words and body transfer encodings/charsets decoded).
 */

/** Inclusive UID ranges; an empty array matches nothing. */
export type UidRanges = Array<[number, number]>;

/** A calendar day, "YYYY-MM-DD". Date comparisons ignore time and timezone as RFC 3501 says. */
export type Day = string;

export type SearchQuery =
  | { type: 'all' }
  | { type: 'and'; of: SearchQuery[] }
  | { type: 'or'; of: [SearchQuery, SearchQuery] }
  | { type: 'not'; of: SearchQuery }
  | { type: 'uid'; ranges: UidRanges }
  /** Flag or keyword present (set: true) or absent (set: false). */
  | { type: 'flag'; flag: string; set: boolean }
  /** Header field `name` contains `value` (decoded); an empty value matches any message that has the field. */
  | { type: 'header'; name: string; value: string }
  /** The decoded body text contains `value`. */
  | { type: 'body'; value: string }
  /** Headers or body contain `value`. */
  | { type: 'text'; value: string }
  /** Internal date compared by day (before: <, on: =, since: >=). */
  | { type: 'internaldate'; op: 'before' | 'on' | 'since'; day: Day }
  /** Date: header compared by day, ignoring its time and timezone. */
  | { type: 'sentdate'; op: 'before' | 'on' | 'since'; day: Day }
  | { type: 'size'; op: 'larger' | 'smaller'; octets: number }
  /**
   * Internal date against a moment, to the second (RFC 5032 WITHIN): `until` matches dates at or
   * before `time`, `from` dates at or after it. `time` is milliseconds since the epoch; both sides
   * are truncated to whole seconds.
   */
  | { type: 'arrival'; op: 'until' | 'from'; time: number }
  | { type: 'modseq'; min: number }
  /** RFC 8514 save date compared by day as internaldate is; a message without one (NIL) never matches. */
  | { type: 'savedate'; op: 'before' | 'on' | 'since'; day: Day }
  /** RFC 8474 EMAILID equal (case-sensitive) to `id`. */
  | { type: 'emailid'; id: string };

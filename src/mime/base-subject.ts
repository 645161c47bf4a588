/**
 * The RFC 5256 §2.1 "base subject": the subject with reply and forward artifacts removed, which
 * SORT (SUBJECT) and THREAD compare. The steps are the RFC's, in its order; every server and
 * disconnected client must use exactly this procedure (§2.1), so it is followed literally rather
 * than approximated with one regular expression:
 *
 *   (1) decode encoded-words, tabs and line breaks become spaces, runs of spaces become one;
 *   (2) remove trailing subj-trailer ("(fwd)" or white space), repeatedly;
 *   (3) remove leading subj-leader ((*subj-blob subj-refwd) / WSP);
 *   (4) remove a leading subj-blob if what remains is a non-empty subj-base;
 *   (5) repeat (3) and (4) until nothing changes;
 *   (6) "[fwd: ... ]" around the whole: remove both ends and go back to (2).
 *
 * ABNF strings are case-insensitive ("Re", "FWD", "(Fwd)" all count). The result is not case
 * folded; callers compare it through the i;unicode-casemap collation (collation.ts).
 */

export interface BaseSubject {
  /** The base subject text. */
  subject: string;
  /**
   * True when extraction removed a subj-refwd ("Re:", "Fwd:"), a "(fwd)" trailer, or the
   * "[fwd: ]" wrapper: the message is a reply or forward (RFC 5256, REFERENCES step 5).
   */
  replyOrForward: boolean;
}

/** subj-blob = "[" *BLOBCHAR "]" *WSP; BLOBCHAR is any CHAR8 but "[" and "]" (and NUL). */
const BLOB = /^\[[^[\]\0]*\] */;
/** subj-leader's first form: *subj-blob subj-refwd, subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". */
const REFWD_LEADER = /^(?:\[[^[\]\0]*\] *)*(?:re|fwd?) *(?:\[[^[\]\0]*\] *)?:/i;

/** Step (2): strips "(fwd)" and white space from the end; returns whether a "(fwd)" went. */
function stripTrailers(s: string): { text: string; fwd: boolean } {
  let fwd = false;
  for (;;) {
    if (s.endsWith(' ')) s = s.slice(0, -1);
    else if (s.length >= 5 && s.slice(-5).toLowerCase() === '(fwd)') {
      s = s.slice(0, -5);
      fwd = true;
    } else return { text: s, fwd };
  }
}

/** `decode` turns RFC 2047 encoded-words into text (step 1 needs it; mime/index.ts supplies libmime). */
export function baseSubject(raw: string, decode: (text: string) => string = (t) => t): BaseSubject {
  // (1) Encoded-words, then every tab and line break is a space, and runs of spaces one space.
  let s = decode(raw).replace(/[\t\r\n]/g, ' ').replace(/ {2,}/g, ' ');
  let replyOrForward = false;
  for (;;) {
    // (2)
    const trailers = stripTrailers(s);
    s = trailers.text;
    if (trailers.fwd) replyOrForward = true;
    // (5): repeat (3) and (4) until neither removes anything.
    for (;;) {
      let changed = false;
      // (3) every leading subj-leader: a reply/forward marker (with blobs before it) or one space.
      for (;;) {
        if (s.startsWith(' ')) {
          s = s.slice(1);
        } else {
          const m = REFWD_LEADER.exec(s);
          if (!m) break;
          s = s.slice(m[0].length);
          replyOrForward = true;
        }
        changed = true;
      }
      // (4) a leading blob, unless it is all that is left (then it is the subj-base).
      const blob = BLOB.exec(s);
      if (blob && s.length > blob[0].length && s.slice(blob[0].length).trim() !== '') {
        s = s.slice(blob[0].length);
        changed = true;
      }
      if (!changed) break;
    }
    // (6) "[fwd:" ... "]" around the whole subject.
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { subject: s, replyOrForward };
  }
}

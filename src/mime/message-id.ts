/**
 * Message-IDs for threading (RFC 5256 §4 REFERENCES, RFC 5322 §3.6.4 with the obsolete forms of
 * §4.5.4). A msg-id is normalised so that different quoting of the same ID compares equal: the
 * angle brackets, comments and white space go, and quoted strings lose their quotes
 * (`<"01KF8JCEOCBS0045PS"@xxx.yyy.com>` is `01KF8JCEOCBS0045PS@xxx.yyy.com`). Comparison stays
 * case-sensitive, as the RFC says.
 *
 * A valid msg-id has a non-empty left and right side around one "@". Text between IDs (phrases,
 * as obsolete In-Reply-To allows, comments, quoted strings) is skipped.
 */

/** The normalised content of one `<...>`, or null when it is not a valid msg-id. */
function normalise(inner: string): string | null {
  let out = '';
  let depth = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '(') depth++;
    else if (c === '"') {
      for (i++; i < inner.length && inner[i] !== '"'; i++) {
        if (inner[i] === '\\' && i + 1 < inner.length) i++;
        out += inner[i];
      }
    } else if (c === '\\' && i + 1 < inner.length) {
      out += inner[++i];
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  const at = out.lastIndexOf('@');
  if (at <= 0 || at === out.length - 1 || out.indexOf('@') !== at || /[<>]/.test(out)) return null;
  return out;
}

/** Every valid msg-id in a header value, in order, normalised. */
export function parseMessageIds(value: string | null | undefined, limit = Infinity): string[] {
  const ids: string[] = [];
  if (!value) return ids;
  const n = value.length;
  let i = 0;
  while (i < n && ids.length < limit) {
    const c = value[i]!;
    if (c === '(') {
      // A comment outside an ID may itself contain "<...>": skip it whole.
      let depth = 1;
      for (i++; i < n && depth > 0; i++) {
        if (value[i] === '\\') i++;
        else if (value[i] === '(') depth++;
        else if (value[i] === ')') depth--;
      }
    } else if (c === '"') {
      for (i++; i < n && value[i] !== '"'; i++) if (value[i] === '\\') i++;
      i++;
    } else if (c === '<') {
      const close = value.indexOf('>', i + 1);
      if (close < 0) break;
      const id = normalise(value.slice(i + 1, close));
      if (id !== null) ids.push(id);
      i = close + 1;
    } else {
      i++;
    }
  }
  return ids;
}

/** The first valid msg-id of a header value (Message-ID:, In-Reply-To:), or null. */
export function firstMessageId(value: string | null | undefined): string | null {
  return parseMessageIds(value, 1)[0] ?? null;
}

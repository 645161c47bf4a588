/**
 * untaggedLines() output as responses, without the final CRLF: given as a string (viewFetchLine) or
 * as Buffers (FetchLineWriter, FetchPageWriter). A response's literal (`{n}` CRLF and n octets)
 * stays part of it, so a FETCH with a literal is one entry, as the harnesses' encoded values are.
 */
export function responsesOf(text: string | Buffer[], encoding: 'utf8' | 'latin1'): string[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.concat(text);
  const out: string[] = [];
  let start = 0;
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf('\r\n', at, 'latin1');
    if (eol < 0) throw new Error(`unterminated response: ${bytes.toString('latin1', start).slice(0, 200)}`);
    const m = /~?\{(\d+)\}$/.exec(bytes.toString('latin1', at, eol));
    if (m) {
      at = eol + 2 + Number(m[1]);
      continue;
    }
    out.push(bytes.toString(encoding, start, eol));
    at = start = eol + 2;
  }
  return out;
}

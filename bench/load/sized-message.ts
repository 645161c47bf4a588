/**
 * A message of about `size` bytes: a short text part and one base64 attachment making up the rest,
 * different for every seed (bench/append-size-prof.ts, bench/append-store-phases.ts).
 */
export function sizedMessage(seed: number, size: number): Buffer {
  const head = `From: a${seed}@example.org\r\nTo: b@example.org\r\nSubject: size ${size} #${seed}\r\nMessage-ID: <s${seed}.${size}@example.org>\r\nDate: Sat, 05 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b${seed}"\r\n\r\n--b${seed}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello ${seed}, the report is attached.\r\n\r\n--b${seed}\r\nContent-Type: application/pdf; name="r.pdf"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="r.pdf"\r\n\r\n`;
  const tail = `\r\n--b${seed}--\r\n`;
  const lines: string[] = [];
  let n = head.length + tail.length;
  let x = seed * 2654435761;
  while (n < size) {
    const raw = Buffer.alloc(57);
    for (let i = 0; i < 57; i++) raw[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const line = `${raw.toString('base64')}\r\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(head + lines.join('') + tail);
}

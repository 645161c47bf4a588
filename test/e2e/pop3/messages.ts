/** Test mail: small varied messages and one of several megabytes, all with CRLF line ends. */
import { createHash } from 'node:crypto';

export function bigMessage(megabytes: number): Buffer {
  const lines = ['From: big@example.org', 'To: you@example.org', 'Subject: big one', 'MIME-Version: 1.0',
    'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', ''];
  let seed = 1;
  const target = megabytes * 1024 * 1024;
  let size = 0;
  const body: string[] = [];
  while (size < target) {
    const bytes = Buffer.alloc(57);
    for (let i = 0; i < 57; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = seed >> 16;
    }
    const line = bytes.toString('base64');
    body.push(line);
    size += line.length + 2;
    if (body.length % 1000 === 0) body.push('.a line that starts with a dot');
  }
  return Buffer.from([...lines, ...body, ''].join('\r\n'));
}

export function variedMessages(count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let n = 1; n <= count; n++) {
    const lines = [
      `From: Sender ${n} <s${n}@example.org>`,
      'To: rcpt@example.org',
      `Subject: =?UTF-8?B?${Buffer.from(`Nachricht ${n} — ünïcödé`).toString('base64')}?=`,
      `Message-ID: <same-id@example.org>`, // deliberately repeated: UIDL must not rely on it
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
    ];
    for (let i = 0; i < (n % 7) * 5 + 1; i++) lines.push(i % 3 === 0 ? `.dotted ${n}.${i}` : `Line ${i} of message ${n} ✓`);
    if (n % 10 === 0) lines.push('.', '..', '');
    out.push(Buffer.from(lines.join('\r\n') + '\r\n'));
  }
  return out;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

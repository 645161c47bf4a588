/**
 * Deterministic, varied, self-checking messages. The Message-ID carries the message's own length
 * and a checksum of its body, so any client can tell a right answer from a wrong one without
 * knowing which UID a server gave the message (Dovecot and Postroom number a seeded Maildir
 * differently).
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let t = s ^ (s >>> 15);
    t = Math.imul(t, 0x2c1b3c6d) >>> 0;
    return ((t ^ (t >>> 12)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'status report meeting budget release invoice lunch tomorrow project draft review please thanks ' +
  'quarter numbers deadline notes agenda minutes server backup update office travel plan team offsite'
).split(' ');
const PEOPLE = ['Ana Lima', 'Bo Chen', 'Cara Diaz', 'Dev Rao', 'Eli Moss', 'Fay Lund', 'Gus Ito'];

/** FNV-1a over bytes: cheap, and enough to catch a wrong or truncated body. */
export function checksum(buf: Buffer): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function words(r: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]!);
  return out.join(' ');
}

function textLines(r: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = words(r, 6 + Math.floor(r() * 8));
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

/** Sizes like a mailbox: 85% 1–8 KB text, 13% multipart with a 10–60 KB attachment, 2% 150–300 KB. */
export function benchMessage(seed: number, tag: string): Buffer {
  const r = rng(seed * 7919 + 17);
  const roll = r();
  let body: string;
  let contentHeaders: string;
  if (roll < 0.85) {
    contentHeaders = 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit';
    body = textLines(r, 1000 + Math.floor(r() * 7000));
  } else {
    const att = roll < 0.98 ? 10_000 + Math.floor(r() * 50_000) : 150_000 + Math.floor(r() * 150_000);
    const raw = Buffer.alloc(att);
    for (let i = 0; i < att; i++) raw[i] = Math.floor(r() * 256);
    const b = `b${seed}x`;
    contentHeaders = `Content-Type: multipart/mixed; boundary="${b}"`;
    body =
      `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${textLines(r, 800)}\r\n` +
      `--${b}\r\nContent-Type: application/octet-stream; name="data${seed}.bin"\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename="data${seed}.bin"\r\n\r\n` +
      `${raw.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--${b}--\r\n`;
  }
  const bodyBuf = Buffer.from(body, 'utf8');
  const from = PEOPLE[seed % PEOPLE.length]!;
  const to = PEOPLE[(seed * 3 + 1) % PEOPLE.length]!;
  const subject = `${tag} ${seed} ${words(r, 3)}`;
  const date = new Date(Date.UTC(2025, 0, 1) + seed * 61_000).toUTCString().replace('GMT', '+0000');
  const headWithoutId =
    `From: "${from}" <${from.split(' ')[0]!.toLowerCase()}@example.com>\r\n` +
    `To: "${to}" <${to.split(' ')[0]!.toLowerCase()}@example.org>\r\n` +
    `Subject: ${subject}\r\nDate: ${date}\r\nMIME-Version: 1.0\r\n${contentHeaders}\r\n`;
  // The length is fixed-width so computing it does not change it.
  const idFor = (len: number): string => `Message-ID: <${seed}.${String(len).padStart(8, '0')}.${checksum(bodyBuf)}@bench.example>\r\n`;
  const total = Buffer.byteLength(headWithoutId) + Buffer.byteLength(idFor(0)) + 2 + bodyBuf.length;
  return Buffer.concat([Buffer.from(headWithoutId + idFor(total) + '\r\n'), bodyBuf]);
}

const ID_RE = /<(\d+)\.(\d{8})\.([0-9a-f]{8})@bench\.example>/;

/** Checks a whole message fetched back: its length and body checksum match its Message-ID. */
export function verifyWholeMessage(raw: Buffer): string | null {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return 'no header/body separator';
  const m = ID_RE.exec(raw.toString('latin1', 0, headEnd));
  if (!m) return 'no bench Message-ID';
  if (Number(m[2]) !== raw.length) return `length ${raw.length}, Message-ID says ${Number(m[2])}`;
  if (checksum(raw.subarray(headEnd + 4)) !== m[3]) return 'body checksum mismatch';
  return null;
}

/** Checks an ENVELOPE's text: it names a bench Message-ID and the subject carries the same seed. */
export function verifyEnvelope(envelopeText: string): string | null {
  const m = ID_RE.exec(envelopeText);
  if (!m) return 'envelope without bench Message-ID';
  if (!new RegExp(`"[a-z]+ ${m[1]} `).test(envelopeText)) return 'envelope subject does not match its Message-ID';
  return null;
}

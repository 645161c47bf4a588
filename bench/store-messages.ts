/**
 * Deterministic varied messages for the store benchmark: mostly small text, some attachments, a few
 * MB-sized — and about a third of them replies, so SORT (SUBJECT) and THREAD have real work: a reply
 * answers one of the 300 messages before it, carries "Re:" (sometimes "Fwd:" or a "[list]" tag)
 * before its thread's subject, and References/In-Reply-To naming the thread's root and its parent.
 */

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let t = s ^ (s >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return ((t ^ (t >>> 15)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were ' +
  'we when your can said there use an each which she do how their if will up other about out many then them these so some her would ' +
  'make like him into time has look two more write go see number no way could people my than first water been call who oil its now ' +
  'find long down day did get come made may part quarterly invoice meeting yesterday project budget release schedule'
).split(' ');
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'xavier', 'yolanda', 'trent'];
const DOMAINS = ['example.com', 'mail.test', 'corp.invalid', 'lists.example.org'];

function sentence(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]!);
  return out.join(' ');
}

function textBody(r: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = sentence(r, 8 + Math.floor(r() * 6));
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

function base64Block(r: () => number, bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) buf.writeUInt32LE((r() * 0x100000000) >>> 0, i);
  return buf.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** A 32-bit mix of `n`: the thread structure depends on the message index alone. */
function hash(n: number): number {
  let x = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The message `i` answers, or null for the start of a thread (35% of messages are replies). */
export function parentOf(i: number): number | null {
  const h = hash(i);
  if (i === 0 || h % 100 >= 35) return null;
  return i - 1 - ((h >>> 8) % Math.min(i, 300));
}

const roots = new Map<number, number>();
function rootOf(i: number): number {
  let known = roots.get(i);
  if (known === undefined) {
    const p = parentOf(i);
    known = p === null ? i : rootOf(p);
    roots.set(i, known);
  }
  return known;
}

function threadSubject(root: number): string {
  const r = rng(root * 7919 + 17);
  return `${sentence(r, 3 + Math.floor(r() * 5))} #${root}`;
}

const REPLY_PREFIXES = ['Re: ', 'Re: ', 'Re: ', 'RE: ', 'Fwd: ', 'Re: [team] '];

function threadHeaders(i: number): string {
  const parent = parentOf(i);
  if (parent === null) return `Subject: ${threadSubject(i)}\r\n`;
  const root = rootOf(i);
  const prefix = REPLY_PREFIXES[hash(i + 1) % REPLY_PREFIXES.length]!;
  const refs = root === parent ? `<bench-${root}@postroom.test>` : `<bench-${root}@postroom.test> <bench-${parent}@postroom.test>`;
  return `Subject: ${prefix}${threadSubject(root)}\r\nIn-Reply-To: <bench-${parent}@postroom.test>\r\nReferences: ${refs}\r\n`;
}

/** Size class: 90% 1.5–10 KB text, 9.8% 20–200 KB with an attachment, 0.2% 1–3 MB. */
export function benchMessage(r: () => number, i: number): Buffer {
  const from = `${NAMES[Math.floor(r() * NAMES.length)]}@${DOMAINS[Math.floor(r() * DOMAINS.length)]}`;
  const to = `${NAMES[Math.floor(r() * NAMES.length)]}@example.com`;
  const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(r() * 4 * 365 * 86400_000)).toUTCString().replace('GMT', '+0000');
  const header =
    `From: ${from}\r\nTo: ${to}\r\n${threadHeaders(i)}Date: ${date}\r\n` +
    `Message-ID: <bench-${i}@postroom.test>\r\nMIME-Version: 1.0\r\n`;
  const roll = r();
  if (roll < 0.9) {
    return Buffer.from(`${header}Content-Type: text/plain; charset=us-ascii\r\n\r\n${textBody(r, 1500 + Math.floor(r() * 8500))}\r\n`);
  }
  const attachment = roll < 0.998 ? 15_000 + Math.floor(r() * 135_000) : 750_000 + Math.floor(r() * 1_500_000);
  return Buffer.from(
    `${header}Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n` +
      `${textBody(r, 1000 + Math.floor(r() * 3000))}\r\n--b${i}\r\nContent-Type: application/octet-stream; name="f${i}.bin"\r\n` +
      `Content-Disposition: attachment; filename="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Block(r, attachment)}\r\n--b${i}--\r\n`,
  );
}

/**
 * src/store/sqlite/parse-thread.ts: a large new body's structure and index columns are derived on
 * the store's parse thread. What comes back must equal the parse on the event loop (the same code),
 * for bodies parsed side by side; a thread that stops leaves no body unparsed or parsed wrong — they
 * are parsed on the event loop, as is every later one.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ParseThread } from '../../src/store/sqlite/parse-thread.js';
import { deriveContent } from '../../src/store/sqlite/derive.js';

function multipart(n: number, size: number): Buffer {
  const text = 'Une ligne de texte accentué, for the index\r\n'.repeat(Math.ceil(size / 46));
  return Buffer.from(
    `From: =?utf-8?q?Ren=C3=A9?= <rene${n}@example.org>\r\nTo: a@example.org, "B" <b@example.org>\r\nSubject: part ${n}\r\n` +
      `Date: Fri, 4 Dec 2026 21:00:0${n % 10} +0000\r\nMessage-ID: <m${n}@example.org>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="b${n}"\r\n\r\n--b${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
      `--b${n}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(size / 2, n).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b${n}--\r\n`,
  );
}

describe('SqliteStore: parsing large bodies on the parse thread', () => {
  it('gives what the parse on the event loop gives, for bodies parsed side by side', async () => {
    const broken: unknown[] = [];
    const thread = new ParseThread((err) => broken.push(err));
    try {
      const bodies = [300_000, 1_000_000, 2_500_000, 700_000, 50].map((size, n) => multipart(n, size));
      const results = await Promise.all(bodies.map((b) => thread.derive(b)));
      for (let i = 0; i < bodies.length; i++) assert.deepEqual(results[i], deriveContent(bodies[i]!), `body ${i}`);
      // Again, with the buffers the thread gave back.
      const again = await Promise.all(bodies.reverse().map((b) => thread.derive(b)));
      for (let i = 0; i < bodies.length; i++) assert.deepEqual(again[i], deriveContent(bodies[i]!), `body ${i}, second time`);
      assert.equal(thread.inFlight, 0);
      assert.deepEqual(broken, [], 'parsed on the thread, not on the event loop after a failure');
    } finally {
      await thread.close();
    }
  });

  it('a thread that stops: the bodies it had are parsed on the event loop, and every later one', async () => {
    const broken: unknown[] = [];
    const thread = new ParseThread((err) => broken.push(err));
    try {
      await thread.derive(multipart(1, 1000)); // the thread is up
      const bodies = [1_500_000, 2_000_000, 900_000].map((size, n) => multipart(n, size));
      const parsing = bodies.map((b) => thread.derive(b));
      await thread.crashForTest();
      const results = await Promise.all(parsing);
      for (let i = 0; i < bodies.length; i++) assert.deepEqual(results[i], deriveContent(bodies[i]!), `body ${i}`);
      assert.equal(broken.length, 1, 'told once');
      const later = multipart(7, 400_000);
      assert.deepEqual(await thread.derive(later), deriveContent(later));
      assert.equal(broken.length, 1);
    } finally {
      await thread.close();
    }
  });
});

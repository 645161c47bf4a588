/**
 * `postroom check` (issue 13, item 5): on a stopped data folder and on one a real `postroom serve`
 * is serving (through its control socket), with damaged bodies and stray entries; exit codes,
 * the report, progress lines, and --quarantine.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { CheckReport } from '../../src/store/sqlite/index.js';
import { MESSAGES, blobPath, buildDataFolder, copyFolder, damageBodies, seq } from '../helpers/damage.js';
import { RawClient } from '../helpers/raw-client.js';
import { runPostroom, startServe } from '../helpers/serve.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-check-');
let pristine: string;

before(async () => {
  pristine = tempDir();
  await buildDataFolder(pristine);
});

function damagedCopy(): string {
  const data = copyFolder(pristine, tempDir());
  damageBodies(data);
  writeFileSync(join(data, 'blobs', 'notes.txt'), 'stray');
  return data;
}

function problemsByPlace(report: CheckReport): Map<string, string> {
  return new Map(report.bodies.damaged.map((d) => [d.place, d.problem]));
}

function assertFindsTheDamage(data: string, report: CheckReport): void {
  assert.equal(report.damaged, true);
  assert.equal(report.bodies.checked, 6);
  const problems = problemsByPlace(report);
  assert.equal(problems.size, 4, JSON.stringify(report.bodies.damaged, null, 1));
  assert.match(problems.get(blobPath(data, MESSAGES.missingFile)) ?? '', /missing/);
  assert.match(problems.get(blobPath(data, MESSAGES.shortFile)) ?? '', /holds 1000 octets, 409600 expected/);
  assert.match(problems.get(blobPath(data, MESSAGES.alteredFile)) ?? '', /SHA-256/);
  assert.ok([...problems].some(([place, p]) => /stored inline/.test(place) && /SHA-256/.test(p)));
  for (const d of report.bodies.damaged) assert.equal(d.examples[0]?.user, 'alice');
  assert.deepEqual(report.files.strays, ['notes.txt']);
  assert.deepEqual(report.database.problems, []);
  assert.equal(report.identity.matches, true);
}

describe('postroom check', () => {
  test('an intact folder: exit 0, "nothing damaged"', async () => {
    const data = copyFolder(pristine, tempDir());
    const r = await runPostroom(['check', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /6 bodies checked/);
    assert.match(r.stdout, /result: nothing damaged/);
  });

  test('no server running: opens the folder itself, finds every damaged body and the stray, exit 2; progress lines on stderr', async () => {
    const data = damagedCopy();
    const r = await runPostroom(['check', '--data', data]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /no server running/);
    assert.match(r.stdout, /6 bodies checked .*: 4 DAMAGED/);
    assert.match(r.stdout, /alice INBOX UID 1/);
    assert.match(r.stdout, /notes\.txt/);
    assert.match(r.stdout, /result: DAMAGE FOUND \(exit status 2\)/);
    assert.match(r.stderr, /^check: message bodies \d+\/6 /m);
    const json = await runPostroom(['check', '--data', data, '--json', '--no-progress']);
    assert.equal(json.code, 2);
    assert.equal(json.stderr, '');
    assertFindsTheDamage(data, JSON.parse(json.stdout) as CheckReport);
  });

  test('a missing database: exit 1 and a message, and nothing created', async () => {
    const data = tempDir();
    const r = await runPostroom(['check', '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mail\.sqlite is missing or empty: there is no database to check/);
    assert.equal(existsSync(join(data, 'mail.sqlite')), false);
  });

  test('while serve runs: the check runs inside the server, which keeps serving and refuses what it found; --quarantine moves the files', async (t) => {
    const data = damagedCopy();
    const s = await startServe(['--data', data, '--ephemeral-ports', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth']);
    t.after(() => s.stop());
    const c = new RawClient(s.listening.imapPort!);
    t.after(() => c.destroy());
    await c.login();
    c.send('S SELECT INBOX\r\n');
    await c.expect(/^S OK/);

    // A session goes on being served during the check.
    let noops = 0;
    let checking = true;
    const serving = (async () => {
      while (checking) {
        c.send(`N${noops} NOOP\r\n`);
        await c.expect(new RegExp(`^N${noops} OK`), 10_000);
        noops++;
      }
    })();
    const r = await runPostroom(['check', '--data', data, '--json', '--quarantine']);
    checking = false;
    await serving;
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.online, true);
    assert.equal(report.database.method, 'table by table');
    assertFindsTheDamage(data, report);
    assert.ok(noops > 0, 'the session was answered while the check ran');

    // The altered file had never been served: the server learnt of it from the check.
    c.send(`F FETCH ${seq('alteredFile')} BODY[]\r\n`);
    assert.match(await c.expect(/^F /), /^F NO \[CORRUPTION\]/);
    c.send(`G FETCH ${seq('goodLarge')} BODY.PEEK[]\r\n`);
    assert.match(await c.expect(/^G /, 10_000), /^G OK/);

    // Quarantined: the two damaged files that existed and the stray, with a README.
    const moved = report.quarantined.map((q) => q.from).sort();
    assert.deepEqual(moved, [blobPath(data, MESSAGES.alteredFile), blobPath(data, MESSAGES.shortFile), join(data, 'blobs', 'notes.txt')].sort());
    for (const q of report.quarantined) {
      assert.equal(existsSync(q.from), false);
      assert.equal(existsSync(q.to), true);
    }
    const [folder] = readdirSync(join(data, 'quarantine'));
    assert.match(readFileSync(join(data, 'quarantine', folder!, 'README.txt'), 'utf8'), /alice:INBOX:4/);

    // A second check finds the bodies still damaged (now missing), the stray gone.
    const again = JSON.parse((await runPostroom(['check', '--data', data, '--json'])).stdout) as CheckReport;
    assert.equal(again.bodies.damaged.length, 4);
    assert.deepEqual(again.files.strays, []);
  });
});

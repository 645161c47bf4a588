/**
 * The store conformance suite. Every MailStore backend — built in or third party — should pass it:
 *
 *   import { runStoreConformance } from 'postroom/conformance';
 *   runStoreConformance('MyStore', () => new MyStore(tmpDir()), { cleanup: removeTmpDirs });
 *
 * By default it registers node:test `describe`/`it` blocks, so call it at the top level of a test
 * file; pass `{ describe, it }` of another runner (vitest, jest, mocha) to register there, or take
 * the plain list of cases from `storeConformanceCases()` and run them any way you like. Each case
 * gets a fresh store from `factory`, closes it afterwards and then calls `cleanup`.
 */
import * as nodeTest from 'node:test';
import { contentTests } from './content.js';
import { feedTests } from './feed.js';
import { extrasTests } from './extras.js';
import { makeRegister, type ConformanceCase, type ConformanceOptions, type StoreFactory } from './harness.js';
import { isolationTests } from './isolation.js';
import { quotaTests } from './quota.js';
import { aclTests } from './acl.js';
import { privateSeenTests } from './private-seen.js';
import { metadataTests } from './metadata.js';
import { urlauthKeyTests } from './urlauth-keys.js';
import { messageTests } from './messages.js';
import { searchTests } from './search.js';
import { seededTests } from './seeded.js';
import { sieveTests } from './sieve.js';
import { sortTests } from './sort.js';
import { treeTests } from './tree.js';

export type { ConformanceCase, ConformanceOptions, SeededMailbox, StoreFactory, TestEnv } from './harness.js';

/** The describe/it pair of a test runner (node:test, vitest, jest and mocha all have this shape). */
export interface TestRunner {
  describe(title: string, fn: () => void): unknown;
  it(title: string, fn: () => Promise<void>): unknown;
  /** Used for cases that do not apply (a read-only store); without it they are left out. */
  skip?(title: string, reason: string): unknown;
}

/** Every case of the suite for this store, as plain objects (no test runner involved). */
export function storeConformanceCases(factory: StoreFactory, options: ConformanceOptions = {}): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const test = makeRegister(factory, options, cases);
  treeTests(test);
  messageTests(test);
  contentTests(test);
  searchTests(test);
  extrasTests(test);
  sortTests(test);
  feedTests(test);
  isolationTests(test);
  quotaTests(test);
  aclTests(test);
  privateSeenTests(test);
  metadataTests(test);
  urlauthKeyTests(test);
  sieveTests(test);
  if (options.seeded) seededTests(test, options.seeded);
  return cases;
}

const nodeRunner: TestRunner = {
  describe: (title, fn) => nodeTest.describe(title, fn),
  it: (title, fn) => nodeTest.it(title, fn),
  skip: (title, reason) => nodeTest.it(title, { skip: reason }, () => undefined),
};

/** Registers the suite with node:test, or with the runner given as `options.runner`. */
export function runStoreConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions & { runner?: TestRunner } = {},
): void {
  const runner = options.runner ?? nodeRunner;
  const cases = storeConformanceCases(factory, options);
  const register = (prefix: string[], list: ConformanceCase[]): void => {
    const depth = prefix.length;
    const here = list.filter((c) => c.path.length === depth);
    for (const c of here) {
      if (c.skip) runner.skip?.(c.title, c.skip);
      else runner.it(c.title, () => c.run());
    }
    const groups = [...new Set(list.filter((c) => c.path.length > depth).map((c) => c.path[depth]!))];
    for (const g of groups) runner.describe(g, () => register([...prefix, g], list.filter((c) => c.path[depth] === g)));
  };
  runner.describe(`store conformance: ${name}`, () => register([], cases));
}

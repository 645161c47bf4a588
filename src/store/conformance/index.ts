/**
 * The store conformance suite. Every MailStore backend — built in or third party — should pass it:
 *
 *   import { runStoreConformance } from 'postroom/store/conformance';
 *   runStoreConformance('MyStore', () => new MyStore(tmpDir()), { cleanup: removeTmpDirs });
 *
 * It registers node:test `describe`/`it` blocks, so call it at the top level of a test file. Each
 * test gets a fresh store from `factory`, closes it afterwards and then calls `cleanup`.
 */
import { describe } from 'node:test';
import { contentTests } from './content.js';
import { feedTests } from './feed.js';
import { makeRegister, type ConformanceOptions, type StoreFactory } from './harness.js';
import { isolationTests } from './isolation.js';
import { messageTests } from './messages.js';
import { searchTests } from './search.js';
import { sieveTests } from './sieve.js';
import { sortTests } from './sort.js';
import { treeTests } from './tree.js';

export type { ConformanceOptions, StoreFactory, TestEnv } from './harness.js';

export function runStoreConformance(name: string, factory: StoreFactory, options: ConformanceOptions = {}): void {
  const test = makeRegister(factory, options);
  describe(`store conformance: ${name}`, () => {
    treeTests(test);
    messageTests(test);
    contentTests(test);
    searchTests(test);
    sortTests(test);
    feedTests(test);
    isolationTests(test);
    sieveTests(test);
  });
}

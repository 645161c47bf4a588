import { runStoreConformance } from '../../src/store/conformance/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { testDatabaseUrl } from '../helpers/postgres.js';

// A fresh database per test (CREATE DATABASE on the run's shared cluster takes a few tens of ms).
runStoreConformance('PostgresStore', async () => PostgresStore.open({ connectionString: await testDatabaseUrl(), poolSize: 4 }));

/**
 * The Postroom process under test: SqliteStore, the users file, createImapServer on loopback —
 * what `postroom serve --store sqlite` runs, with the connection limits raised for the load
 * (serve has no flags for them) and no TLS, like the Dovecot side.
 * argv: DATA_DIR MAX_CONNECTIONS. Prints {"msg":"listening","imapPort":…,"pid":…}.
 */
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { createImapServer } from '../../src/imap/server.js';

const [data, max] = [process.argv[2]!, Number(process.argv[3] ?? 20_000)];
const store = await SqliteStore.open({ directory: data });
const server = createImapServer({
  store,
  auth: new UserFileAuthenticator(UserFile.inDataDir(data)),
  host: '127.0.0.1',
  port: 0,
  tlsPort: null,
  allowInsecureAuth: true,
  limits: { maxConnections: max, maxConnectionsPerIp: max, maxConnectionsPerUser: max },
});
const bound = await server.listen();
process.stdout.write(`${JSON.stringify({ msg: 'listening', imapPort: bound.port, pid: process.pid })}\n`);
const stop = (): void => {
  void server
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** The one table of POP3 commands. Adding a command = one file + one line here. */
import type { Pop3Command } from './types.js';
import { apopCommand } from './apop.js';
import { authCommand } from './auth.js';
import { capaCommand } from './capa.js';
import { deleCommand } from './dele.js';
import { listCommand } from './list.js';
import { noopCommand } from './noop.js';
import { passCommand } from './pass.js';
import { quitCommand } from './quit.js';
import { retrCommand } from './retr.js';
import { rsetCommand } from './rset.js';
import { statCommand } from './stat.js';
import { stlsCommand } from './stls.js';
import { topCommand } from './top.js';
import { uidlCommand } from './uidl.js';
import { userCommand } from './user.js';

// Method syntax in Pop3Command makes a command with typed args fit the table's Pop3Command<unknown>.
const COMMANDS: readonly Pop3Command[] = [
  userCommand,
  passCommand,
  apopCommand,
  authCommand,
  stlsCommand,
  capaCommand,
  quitCommand,
  statCommand,
  listCommand,
  retrCommand,
  deleCommand,
  noopCommand,
  rsetCommand,
  topCommand,
  uidlCommand,
];

export function createCommandTable(extra: readonly Pop3Command[] = []): Map<string, Pop3Command> {
  const table = new Map<string, Pop3Command>();
  for (const command of [...COMMANDS, ...extra]) table.set(command.name.toUpperCase(), command);
  return table;
}

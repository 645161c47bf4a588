/** Every ManageSieve command, by name (RFC 5804 §2). */
import type { ManageSieveCommand } from '../types.js';
import { authenticateCommand } from './authenticate.js';
import {
  checkscriptCommand,
  deletescriptCommand,
  getscriptCommand,
  havespaceCommand,
  listscriptsCommand,
  putscriptCommand,
  renamescriptCommand,
  setactiveCommand,
} from './scripts.js';
import { capabilityCommand, logoutCommand, noopCommand, starttlsCommand, unauthenticateCommand } from './session.js';

export function createCommandTable(): ReadonlyMap<string, ManageSieveCommand> {
  const all = [
    capabilityCommand,
    noopCommand,
    logoutCommand,
    starttlsCommand,
    authenticateCommand,
    unauthenticateCommand,
    havespaceCommand,
    putscriptCommand,
    checkscriptCommand,
    listscriptsCommand,
    setactiveCommand,
    getscriptCommand,
    deletescriptCommand,
    renamescriptCommand,
  ];
  return new Map(all.map((c) => [c.name, c]));
}

/**
 * The one table of IMAP commands. A built-in command is one file plus one line here; a framework
 * user's custom command goes through the same table (server.addCommand()).
 */
import type { AnyCommandSpec } from './types.js';
import { capabilityCommand } from './capability.js';
import { noopCommand } from './noop.js';
import { logoutCommand } from './logout.js';
import { starttlsCommand } from './starttls.js';
import { loginCommand } from './login.js';
import { authenticateCommand } from './authenticate.js';
import { selectCommand, examineCommand } from './select.js';
import { idleCommand } from './idle.js';
import { enableCommand } from './enable.js';
import { idCommand } from './id.js';
import { appendCommand } from './append.js';
import { checkCommand } from './check.js';
import { closeCommand } from './close.js';
import { unselectCommand } from './unselect.js';
import { unauthenticateCommand } from './unauthenticate.js';
import { replaceCommand, uidReplaceCommand } from './replace.js';
import { expungeCommand, uidExpungeCommand } from './expunge.js';
import { uidBatchesCommand } from './uidbatches.js';
import { searchCommand, uidSearchCommand } from './search.js';
import { storeCommand, uidStoreCommand } from './store.js';
import { copyCommand, uidCopyCommand } from './copy.js';
import { moveCommand, uidMoveCommand } from './move.js';
import { statusCommand } from './status.js';
import { fetchCommand, uidFetchCommand } from './fetch.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { renameCommand } from './rename.js';
import { subscribeCommand } from './subscribe.js';
import { unsubscribeCommand } from './unsubscribe.js';
import { listCommand } from './list.js';
import { lsubCommand } from './lsub.js';
import { namespaceCommand } from './namespace.js';
import { sortCommand, uidSortCommand } from './sort.js';
import { threadCommand, uidThreadCommand } from './thread.js';
import { cancelUpdateCommand } from './cancelupdate.js';
import { setAclCommand } from './setacl.js';
import { getMetadataCommand } from './getmetadata.js';
import { setMetadataCommand } from './setmetadata.js';
import { deleteAclCommand } from './deleteacl.js';
import { getAclCommand } from './getacl.js';
import { listRightsCommand } from './listrights.js';
import { myRightsCommand } from './myrights.js';
import { compressCommand } from './compress.js';
import { notifyCommand } from './notify.js';

export const BUILTIN_COMMANDS: readonly AnyCommandSpec[] = [
  capabilityCommand,
  noopCommand,
  logoutCommand,
  starttlsCommand,
  loginCommand,
  authenticateCommand,
  selectCommand,
  examineCommand,
  idleCommand,
  notifyCommand,
  compressCommand,
  enableCommand,
  idCommand,
  appendCommand,
  checkCommand,
  closeCommand,
  unselectCommand,
  unauthenticateCommand,
  replaceCommand,
  uidReplaceCommand,
  expungeCommand,
  uidExpungeCommand,
  uidBatchesCommand,
  searchCommand,
  uidSearchCommand,
  storeCommand,
  uidStoreCommand,
  copyCommand,
  uidCopyCommand,
  moveCommand,
  uidMoveCommand,
  statusCommand,
  fetchCommand,
  uidFetchCommand,
  createCommand,
  deleteCommand,
  renameCommand,
  subscribeCommand,
  unsubscribeCommand,
  listCommand,
  lsubCommand,
  namespaceCommand,
  sortCommand,
  uidSortCommand,
  threadCommand,
  uidThreadCommand,
  cancelUpdateCommand,
];

/** RFC 4314: registered by the server only when the store keeps ACLs (MailStore.sharedMailboxes). */
/** RFC 5464: registered by the server only when the store keeps annotations (MailStore.metadata). */
export const METADATA_COMMANDS: readonly AnyCommandSpec[] = [getMetadataCommand, setMetadataCommand];

export const ACL_COMMANDS: readonly AnyCommandSpec[] = [setAclCommand, deleteAclCommand, getAclCommand, listRightsCommand, myRightsCommand];

export class CommandRegistry {
  private readonly specs = new Map<string, AnyCommandSpec>();

  constructor(specs: readonly AnyCommandSpec[] = BUILTIN_COMMANDS) {
    for (const spec of specs) this.add(spec);
  }

  add(spec: AnyCommandSpec): void {
    const name = spec.name.toUpperCase();
    if (!/^(UID )?[A-Z][A-Z0-9_.-]*$/.test(name)) throw new TypeError(`invalid command name "${spec.name}"`);
    this.specs.set(name, spec);
  }

  get(name: string): AnyCommandSpec | undefined {
    return this.specs.get(name.toUpperCase());
  }

  /** Capability names that registered commands bring (IDLE, UNSELECT, MOVE...). */
  capabilities(): string[] {
    const out = new Set<string>();
    for (const spec of this.specs.values()) for (const c of spec.capabilities ?? []) out.add(c);
    return [...out];
  }
}

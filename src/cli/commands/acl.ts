/**
 * `postroom acl get|set|delete --user USER --mailbox NAME`: the RFC 4314 access control list of one
 * of a user's mailboxes, through the running server (its control socket: sessions see the change
 * at once) or, with none running, on the store opened here — as `postroom quota` does. The
 * administrator acts for the owner: no rights are checked (docs/sharing.md).
 *
 *   postroom acl get --user alice --mailbox Team            one entry a line: identifier, rights
 *   postroom acl set --user alice --mailbox Team --identifier bob --rights lrs   (+r adds, -r removes)
 *   postroom acl delete --user alice --mailbox Team --identifier bob
 */
import type { Command } from 'commander';
import type { UserMailbox } from '../../store/types.js';
import { ALL_RIGHTS, applyModification, displayRights } from '../../store/acl.js';
import { openAdminTarget } from '../admin/target.js';
import { adminSettings, requireKnownUser, withServerOptions, type Options } from '../admin/options.js';

type AclMail = UserMailbox & Required<Pick<UserMailbox, 'getAcl' | 'setAcl'>>;

async function withMailbox(options: Options, fn: (mail: AclMail, mailboxId: string) => Promise<void>): Promise<void> {
  const user = String(options['user'] ?? '');
  const mailbox = String(options['mailbox'] ?? '');
  if (!user || !mailbox) throw new Error('give --user and --mailbox');
  const settings = await adminSettings(options);
  const target = await openAdminTarget(settings);
  try {
    await requireKnownUser(settings, target, user);
    const mail = await target.store.open(user);
    try {
      if (!mail.getAcl || !mail.setAcl) throw new Error('this store keeps no access control lists');
      const info = await mail.get(/^inbox$/i.test(mailbox) ? 'INBOX' : mailbox);
      await fn(mail as AclMail, info.id);
    } finally {
      await mail.close();
    }
  } finally {
    await target.close();
  }
}

async function print(mail: AclMail, mailboxId: string): Promise<void> {
  // The owner first, with every right, as GETACL answers.
  let out = `${mail.user}\t${displayRights(ALL_RIGHTS)}\n`;
  for (const e of await mail.getAcl(mailboxId)) if (e.identifier !== mail.user) out += `${e.identifier}\t${displayRights(e.rights)}\n`;
  process.stdout.write(out);
}

function identifierOf(options: Options, user: string): string {
  const identifier = String(options['identifier'] ?? '');
  if (!identifier) throw new Error('give --identifier (a user name, anyone, authenticated, or -name for negative rights)');
  if (identifier === user) throw new Error("the owner's rights are implicit and cannot be changed");
  return identifier;
}

export function register(program: Command): void {
  const acl = program.command('acl').description("a mailbox's access control list (RFC 4314; on the running server when there is one)");
  const mailboxOptions = (c: Command): Command =>
    withServerOptions(c.requiredOption('--user <user>', 'the owner of the mailbox').requiredOption('--mailbox <name>', 'the mailbox, e.g. Team or INBOX'));

  mailboxOptions(acl.command('get').description('the list, one entry a line: identifier, rights (the owner first)')).action((options: Options) =>
    withMailbox(options, print),
  );

  mailboxOptions(
    acl
      .command('set')
      .description('set an identifier\'s rights: "lrs" replaces, "+w" adds, "-w" removes (RFC 4314 §3.1)')
      .requiredOption('--identifier <id>', 'a user name, anyone, authenticated, or -name for negative rights')
      .requiredOption('--rights <rights>', 'rights out of l r s w i p k x t e a (c = k, d = x t e)'),
  ).action((options: Options) =>
    withMailbox(options, async (mail, mailboxId) => {
      const identifier = identifierOf(options, mail.user);
      const current = (await mail.getAcl(mailboxId)).find((e) => e.identifier === identifier)?.rights ?? '';
      const next = applyModification(current, String(options['rights']));
      await mail.setAcl(mailboxId, identifier, next === '' ? null : next);
      await print(mail, mailboxId);
    }),
  );

  mailboxOptions(
    acl.command('delete').description("remove an identifier's entry").requiredOption('--identifier <id>', 'the identifier whose entry goes'),
  ).action((options: Options) =>
    withMailbox(options, async (mail, mailboxId) => {
      await mail.setAcl(mailboxId, identifierOf(options, mail.user), null);
      await print(mail, mailboxId);
    }),
  );
}

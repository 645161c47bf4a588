/**
 * From a recipient address to a user: which user names an address may stand for, in the order
 * they are tried, and the detail part (`ann+lists@example.org` → user ann, detail "lists").
 *
 * The rule (docs/delivery.md):
 *   - `address`:   the whole address is the user name ("ann@example.org");
 *   - `localpart`: the part before the last "@" is ("ann");
 *   - `auto`:      the whole address when such a user exists, else the local part.
 * Each candidate is tried as given, then lower-cased (MTAs pass addresses in whatever case the
 * sender wrote them, user names are usually lower case). With a recipient delimiter, the name
 * with the detail part is tried first (a user may be called "a+b"), then without it.
 */
import { userNameProblem } from '../auth/user-name.js';

export type RecipientUserName = 'auto' | 'localpart' | 'address';

export interface AddressParts {
  /** Before the last "@" (the whole address when there is none, as for `<postmaster>`). */
  local: string;
  /** After the last "@"; null without one. */
  domain: string | null;
}

export function splitAddress(address: string): AddressParts {
  const at = address.lastIndexOf('@');
  return at < 0 ? { local: address, domain: null } : { local: address.slice(0, at), domain: address.slice(at + 1) };
}

export interface Candidate {
  user: string;
  detail?: string;
}

/** The user names `address` may stand for, most specific first, without duplicates or unusable names. */
export function candidateUsers(address: string, rule: RecipientUserName, delimiter: string): Candidate[] {
  const { local, domain } = splitAddress(address);
  const forms: Array<{ local: string; detail?: string }> = [{ local }];
  if (delimiter !== '') {
    const cut = local.indexOf(delimiter);
    if (cut > 0) forms.push({ local: local.slice(0, cut), detail: local.slice(cut + delimiter.length) });
  }
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (user: string, detail: string | undefined): void => {
    for (const name of [user, user.toLowerCase()]) {
      if (seen.has(name) || userNameProblem(name) !== null) continue;
      seen.add(name);
      out.push(detail === undefined || detail === '' ? { user: name } : { user: name, detail });
    }
  };
  for (const form of forms) {
    const whole = domain === null ? form.local : `${form.local}@${domain}`;
    if (rule === 'address' || rule === 'auto') add(whole, form.detail);
    if (rule === 'localpart' || rule === 'auto') add(form.local, form.detail);
  }
  return out;
}

/** U+FFFD is what undecodable bytes became: such an address cannot be matched to anything. */
export function addressProblem(address: string): string | null {
  if (address.includes('\uFFFD')) return 'Address is not valid UTF-8';
  if (address.length === 0) return 'Empty address';
  return null;
}

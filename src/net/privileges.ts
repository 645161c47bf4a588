/**
 * Dropping root after the listening sockets are bound (ports below 1024 need root; serving mail
 * does not). Group first: once the user is changed, setgid is no longer permitted.
 */
export function dropPrivileges(user?: string | number, group?: string | number): void {
  if (typeof process.setuid !== 'function' || typeof process.setgid !== 'function') {
    throw new Error('dropping privileges is not supported on this platform');
  }
  if (group !== undefined) {
    if (typeof process.setgroups === 'function' && process.getuid?.() === 0) process.setgroups([group]);
    process.setgid(group);
  }
  if (user !== undefined) process.setuid(user);
  if (process.getuid?.() === 0 && user !== undefined && user !== 0 && user !== 'root') {
    throw new Error('failed to drop root privileges');
  }
}

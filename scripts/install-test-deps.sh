#!/usr/bin/env bash
# Installs the Debian programs the end-to-end tests drive (real clients, Postfix as the MTA that
# delivers over LMTP, PostgreSQL, HAProxy), when missing.
# Runs as root in CI; on a developer machine without root it only reports what is missing.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v fetchmail >/dev/null || need+=(fetchmail)
command -v openssl >/dev/null || need+=(openssl)
command -v swaks >/dev/null || need+=(swaks)
# ManageSieve's end-to-end test uploads scripts with it.
command -v sieve-connect >/dev/null || need+=(sieve-connect)
# Whole-account sync clients (test/e2e/sync-clients.test.ts).
command -v mbsync >/dev/null || need+=(isync)
command -v offlineimap >/dev/null || need+=(offlineimap3)
# doveadm sync/backup through imapc (the same test); the benchmarks compare against Dovecot too.
command -v doveadm >/dev/null || need+=(dovecot-core)
# Dovecot's own IMAP service: the capability test (test/e2e/capability-superset.test.ts) reads its
# CAPABILITY from a Dovecot started from a temporary directory.
[ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
[ -x /usr/sbin/postfix ] || need+=(postfix)
# systemd-analyze verifies deploy/postroom.service (test/deploy/).
command -v systemd-analyze >/dev/null || need+=(systemd)
# The PostgreSQL store's tests start their own cluster (initdb, pg_ctl) from the server package,
# whose programs live outside PATH; the package also creates the unprivileged "postgres" user.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# Two nodes behind HAProxy with the PROXY protocol (test/e2e/haproxy-proxy-protocol.test.ts); the
# test runs its own haproxy from a generated configuration, never the system service.
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing test programs (install them with apt-get): ${need[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix without a system configuration: the package then neither writes /etc/postfix/main.cf nor
# starts a system instance. The tests run their own instance from a temporary config_directory.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# No system services from these packages (Dovecot, PostgreSQL, HAProxy): the tests start their own.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  policy_added=1
fi
trap 'if [ "$policy_added" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

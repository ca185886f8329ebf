#!/usr/bin/env bash
# npm run bench [-- --quick | --soak | --help]: installs what is missing (scripts/bootstrap.sh),
# builds, and runs the benchmark (bench/run.ts) as root. The run sends a syslog line for every
# refused password; when a system syslog owns /dev/log, it runs in a private mount namespace
# where a drain is mounted over /dev/log for it alone (as scripts/test.sh does for the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "npm run bench: run it as root (pam_mapi.so talks only to a worker run by root; nslcd needs a mount namespace)" >&2
  exit 1
fi
if [ -z "${PAM_MAPI_BENCH_NS:-}" ]; then
  installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
  had_pam_ldap=0 had_pam_sss=0 had_pwquality=0 had_nss_sss=0
  installed libpam-ldapd && had_pam_ldap=1
  installed libpam-sss && had_pam_sss=1
  installed libpam-pwquality && had_pwquality=1
  installed libnss-sss && had_nss_sss=1
  had_pam_krb5=0
  installed libpam-krb5 && had_pam_krb5=1
  nsswitch=$(mktemp)
  cp -p /etc/nsswitch.conf "$nsswitch"
  bash scripts/bootstrap.sh bench
  # Debian's libpam-ldapd, libpam-krb5, libpam-sss and libpam-pwquality (which sssd brings)
  # add their modules to /etc/pam.d/common-* when installed, and libnss-sss adds sss to
  # /etc/nsswitch.conf; the benchmark only needs the files. Take that back when this run
  # installed them.
  if [ $had_pam_ldap -eq 0 ] && installed libpam-ldapd; then
    pam-auth-update --package --remove ldap
  fi
  if [ $had_pam_krb5 -eq 0 ] && installed libpam-krb5; then
    pam-auth-update --package --remove krb5
  fi
  if [ $had_pam_sss -eq 0 ] && installed libpam-sss; then
    pam-auth-update --package --remove sss
  fi
  if [ $had_pwquality -eq 0 ] && installed libpam-pwquality; then
    pam-auth-update --package --remove pwquality
  fi
  if [ $had_nss_sss -eq 0 ] && installed libnss-sss; then
    cp -p "$nsswitch" /etc/nsswitch.conf
  fi
  rm -f "$nsswitch"
  bash scripts/build.sh
  if [ -e /dev/log ]; then
    exec unshare --mount --propagation private env PAM_MAPI_BENCH_NS=1 node dist/bench/run.js "$@"
  fi
fi
exec node dist/bench/run.js "$@"

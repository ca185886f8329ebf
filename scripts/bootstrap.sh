#!/usr/bin/env bash
# Installs what `npm run demo` and `npm test` need and are missing: Debian packages (as root)
# and the npm packages. Says exactly what it installed, or what the user must install.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: the PAM headers and node-gyp's toolchain. Tests and `demo --store zarafa`: python3 (a
# private syslog socket), MariaDB and slapd (private instances in temp dirs; the system ones are
# not started), openssl (test certificates), and the real mail stack the tests run privately:
# saslauthd, Postfix, Dovecot, swaks, pam_wrapper; systemd-analyze checks the units;
# fail2ban-regex checks the shipped jail; valgrind runs the module's leak check (CI); lintian
# checks the Debian package.
packages=(libpam0g-dev g++ make python3 mariadb-server slapd ldap-utils openssl
  sasl2-bin libsasl2-modules postfix dovecot-imapd swaks libpam-wrapper systemd fail2ban valgrind
  lintian)
# The crypt(3) addon links the system's libcrypt (libxcrypt); the file store's tests make their
# files with Apache's own htpasswd/htdigest and Dovecot's doveadm pw.
packages+=(libcrypt-dev apache2-utils dovecot-core)
# Kerberos: libkrb5-dev builds the krb5 store's addon; krb5-kdc and krb5-admin-server
# (kadmin.local) run the tests' private KDCs, libfaketime one with its clock off.
packages+=(libkrb5-dev krb5-kdc krb5-admin-server libfaketime)
# logrotate runs the shipped snippet over the accounting log; prometheus brings promtool, which
# checks the metrics the worker serves.
packages+=(logrotate prometheus)
# `bootstrap.sh bench`: also the modules the benchmark compares with. Only the benchmark asks:
# Debian's libpam-ldapd, libpam-krb5, libpam-sss and libpam-pwquality change /etc/pam.d/common-*
# and libnss-sss /etc/nsswitch.conf when installed (scripts/bench.sh undoes that).
if [ "${1:-}" = bench ]; then packages+=(libpam-mysql libpam-ldapd nslcd libpam-krb5 sssd-ldap libpam-sss); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pam_mapi: missing Debian packages: ${missing[*]}" >&2
    echo "          install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "pam_mapi: installing Debian packages: ${missing[*]}"
  # Keep Debian from starting the daemons it installs; tests run their own private instances.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [ -e "$policy" ] && had_policy=1
  if [ $had_policy -eq 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; fi
  trap '[ $had_policy -eq 0 ] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks what kind of mail system this is; the tests configure their own instances.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "pam_mapi: installed ${missing[*]}"
fi

# The package test installs Debian 12's own Node.js (18) beside the package in a throwaway
# root, to show the worker runs on it: its .debs, downloaded once (not installed here).
node_debs=/var/cache/pam_mapi-test/debian-node
if [ "$(id -u)" -eq 0 ] && ! ls "$node_debs"/nodejs_18.*.deb >/dev/null 2>&1; then
  v=$(apt-cache show nodejs 2>/dev/null | awk '/^Version: 18\./{print $2; exit}')
  if [ -n "$v" ]; then
    echo "pam_mapi: downloading Debian's nodejs $v (for the package test) into $node_debs"
    mkdir -p "$node_debs/partial"
    apt-get install --download-only -y -qq --allow-downgrades --no-install-recommends \
      -o Dir::Cache::archives="$node_debs" "nodejs=$v" >/dev/null
  else
    echo "pam_mapi: this system's archive has no nodejs 18: the package test will say so" >&2
  fi
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || \
   { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "pam_mapi: installing npm packages"
  # A fresh checkout installs exactly the lock file (npm ci, as packagers and CI do); a working
  # tree whose package.json changed updates it (npm install).
  if [ ! -d node_modules ] && [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi

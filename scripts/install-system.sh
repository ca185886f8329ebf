#!/usr/bin/env bash
# npm run install:system -- installs pam_mapi on this machine (root), or into a staging root:
#   DESTDIR=/tmp/stage PREFIX=/usr npm run install:system
# Puts pam_mapi.so in the system's PAM module directory (where pam_unix.so is), the worker and
# CLI under $PREFIX/lib/pam_mapi with pam-mapi-worker and pam-mapi on PATH, the man pages,
# the systemd units, and /etc/pam_mapi.conf unless one exists. Every file it writes is listed
# in $PREFIX/lib/pam_mapi/installed-files for uninstall-system.sh.
# On this machine (no DESTDIR) it also creates the system user and group the worker runs as
# (pam-mapi: no login shell, no home), gives them the config (root:pam-mapi 0640), and adds the
# user to the kopano (or zarafa) group when there is one, so the worker can read server.cfg.
# A staging install (DESTDIR) writes the config root:root 0600; the package's postinst does the
# rest.
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
NODE=${NODE:-$(command -v node)}
WORKER_USER=$("$NODE" -p "require('./src/protocol/constants.json').workerUser")

[ -f build/Release/pam_mapi.so ] && [ -f dist/src/worker/main.js ] || { echo "install-system: build first: npm run build" >&2; exit 1; }
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then echo "install-system: run as root (or give DESTDIR)" >&2; exit 1; fi

# The PAM module directory, found where this system keeps pam_unix.so (Debian multiarch
# /lib/<triplet>/security or /usr/lib/<triplet>/security, RHEL /usr/lib64/security).
pamdir=${PAM_MODULE_DIR:-}
if [ -z "$pamdir" ]; then
  for d in /lib/*/security /usr/lib/*/security /usr/lib64/security /lib64/security /lib/security /usr/lib/security; do
    if [ -f "$d/pam_unix.so" ]; then pamdir=$d; break; fi
  done
fi
[ -n "$pamdir" ] || { echo "install-system: cannot find the PAM module directory (no pam_unix.so); set PAM_MODULE_DIR" >&2; exit 1; }

libdir=$PREFIX/lib/pam_mapi
unitdir=${SYSTEMD_UNIT_DIR:-$PREFIX/lib/systemd/system}
[ "$PREFIX" = /usr ] && unitdir=${SYSTEMD_UNIT_DIR:-/lib/systemd/system}
mandir=$PREFIX/share/man
manifest=$DESTDIR$libdir/installed-files
mkdir -p "$DESTDIR$libdir"
: > "$manifest.new"

put() { # put MODE SOURCE TARGET: install one file and record it
  install -D -m "$1" "$2" "$DESTDIR$3"
  echo "$3" >> "$manifest.new"
}

put 0644 build/Release/pam_mapi.so "$pamdir/pam_mapi.so"
put 0644 build/Release/pam_client.node "$libdir/build/Release/pam_client.node"
put 0644 build/Release/peer_credentials.node "$libdir/build/Release/peer_credentials.node"
put 0644 build/Release/krb5_check.node "$libdir/build/Release/krb5_check.node"
put 0644 package.json "$libdir/package.json"
while IFS= read -r f; do
  mode=0644; case "$f" in dist/src/worker/main.js|dist/src/cli/main.js) mode=0755;; esac
  put $mode "$f" "$libdir/$f"
done < <(find dist/src -type f -name '*.js' -o -type f -name '*.json' | sort)
# The production dependencies only, as npm resolved them here (no network needed).
while IFS= read -r dep; do
  rel=${dep#"$PWD/"}
  [ "$rel" = "$PWD" ] && continue
  while IFS= read -r f; do put 0644 "$f" "$libdir/$f"; done < <(find "$rel" -type f ! -path '*/test/*' ! -name '*.md' ! -name '*.ts' | sort)
done < <(npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2)

mkdir -p "$DESTDIR$PREFIX/sbin" "$DESTDIR$PREFIX/bin"
ln -sfn "$libdir/dist/src/worker/main.js" "$DESTDIR$PREFIX/sbin/pam-mapi-worker"; echo "$PREFIX/sbin/pam-mapi-worker" >> "$manifest.new"
ln -sfn "$libdir/dist/src/cli/main.js" "$DESTDIR$PREFIX/bin/pam-mapi"; echo "$PREFIX/bin/pam-mapi" >> "$manifest.new"

for page in man/*.[1-8]; do
  section=${page##*.}
  put 0644 "$page" "$mandir/man$section/$(basename "$page")"
done

for unit in scripts/systemd/*; do
  tmp=$(mktemp)
  sed -e "s#@NODE@#$NODE#g" -e "s#@LIBDIR@#$libdir#g" -e "s#@SYSCONFDIR@#${SYSCONFDIR:-/etc}#g" "$unit" > "$tmp"
  put 0644 "$tmp" "$unitdir/$(basename "$unit")"
  rm -f "$tmp"
done

for ex in pam.d-examples/*; do put 0644 "$ex" "$PREFIX/share/doc/pam_mapi/pam.d-examples/$(basename "$ex")"; done
put 0644 docs/fail2ban/pam-mapi.conf "$PREFIX/share/doc/pam_mapi/fail2ban/pam-mapi.conf"

# The worker's system user and group, made once and kept on uninstall (files it may own
# outlive the package; a packager's purge removes it).
make_worker_user() {
  local nologin
  nologin=$(command -v nologin || echo /usr/sbin/nologin)
  if ! getent group "$WORKER_USER" >/dev/null; then
    if command -v groupadd >/dev/null; then groupadd --system "$WORKER_USER"; else addgroup --system "$WORKER_USER"; fi
  fi
  if ! getent passwd "$WORKER_USER" >/dev/null; then
    if command -v useradd >/dev/null; then
      useradd --system --gid "$WORKER_USER" --no-create-home --home-dir /nonexistent --shell "$nologin" --comment "pam_mapi worker" "$WORKER_USER"
    else
      adduser --system --ingroup "$WORKER_USER" --no-create-home --home /nonexistent --shell "$nologin" --gecos "pam_mapi worker" "$WORKER_USER"
    fi
  fi
  # Kopano's server.cfg is root:kopano 0640 (Zarafa's: zarafa); its database password is
  # read through that group.
  local g
  for g in kopano zarafa; do
    if getent group "$g" >/dev/null && ! id -nG "$WORKER_USER" | tr ' ' '\n' | grep -qx "$g"; then
      usermod -a -G "$g" "$WORKER_USER"
      echo "install-system: added $WORKER_USER to the $g group (for server.cfg)"
    fi
  done
}
[ -z "$DESTDIR" ] && make_worker_user

# The config: a sample, never over an existing one; recorded with its checksum so uninstall
# removes it only while nobody has changed it. Readable by the worker's group, no one else.
conf=${SYSCONFDIR:-/etc}/pam_mapi.conf
if [ -e "$DESTDIR$conf" ]; then
  echo "install-system: keeping the existing $conf"
  # One written for a worker that ran as root (root:root 0600): hand it to the worker's group.
  if [ -z "$DESTDIR" ] && [ "$(stat -c %u:%g "$conf")" = 0:0 ]; then
    chgrp "$WORKER_USER" "$conf" && chmod g+r,g-wx,o-rwx "$conf"
    echo "install-system: $conf is now root:$WORKER_USER $(stat -c %a "$conf") so the worker can read it; give its password files the same"
  fi
elif [ -n "$DESTDIR" ]; then
  install -D -m 0600 scripts/pam_mapi.conf.sample "$DESTDIR$conf"
  echo "$conf sha256=$(sha256sum "$DESTDIR$conf" | cut -d' ' -f1)" >> "$manifest.new"
else
  install -D -m 0640 -o root -g "$WORKER_USER" scripts/pam_mapi.conf.sample "$conf"
  echo "$conf sha256=$(sha256sum "$conf" | cut -d' ' -f1)" >> "$manifest.new"
fi
echo "$libdir/installed-files" >> "$manifest.new"
mv "$manifest.new" "$manifest"

if [ -z "$DESTDIR" ]; then
  # The first pam.d baseline (PAM_MAPI_ROOT, when set, names another root): what uses the
  # module now. Save it again once the stanzas are in place: pam-mapi doctor --save-baseline.
  "$NODE" "$libdir/dist/src/cli/main.js" doctor --save-baseline
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
echo "pam_mapi installed: module $pamdir/pam_mapi.so, worker $PREFIX/sbin/pam-mapi-worker, CLI $PREFIX/bin/pam-mapi${DESTDIR:+ (under $DESTDIR)}"
echo "next: edit /etc/pam_mapi.conf (keep it root:$WORKER_USER 0640, and password files likewise), systemctl enable --now pam-mapi-worker.socket, then pam-mapi check USER"

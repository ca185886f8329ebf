#!/usr/bin/env bash
# npm run uninstall:system -- removes what install-system.sh installed, and nothing else: the
# worker stopped and its units disabled (the enable symlinks), the files and accounts ("user
# NAME", "group NAME" lines) its manifest lists,
# /etc/pam_mapi.conf and /etc/pam_mapi/users only while unchanged since install, the pam.d
# baseline the install saved, the socket directory, and the directories the install created
# once they are empty.
set -euo pipefail
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
manifest=$DESTDIR$PREFIX/lib/pam_mapi/installed-files
[ -f "$manifest" ] || { echo "uninstall-system: nothing installed under ${DESTDIR}${PREFIX} (no $manifest)" >&2; exit 1; }
units=(pam-mapi-worker.socket pam-mapi-worker.service)

# Stop the worker first, so nothing runs from removed files (a live system only).
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl stop "${units[@]}" 2>/dev/null || true
fi
if [ -z "$DESTDIR" ] && [ -f /run/pam_mapi/worker.pid ]; then
  # The daemon mode's worker (pam-mapi-worker(8)), when the pid file names this install's worker.
  pid=$(cat /run/pam_mapi/worker.pid)
  if tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -e "$PREFIX/lib/pam_mapi/dist/src/worker/main.js" -e "$PREFIX/sbin/pam-mapi-worker"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi
# The enable symlinks (systemctl enable made them; the same as systemctl disable, and it works
# without a running systemd): only links to these units, in any .wants or .requires directory.
for link in "$DESTDIR"/etc/systemd/system/*.wants/* "$DESTDIR"/etc/systemd/system/*.requires/*; do
  [ -L "$link" ] || continue
  case "$(basename "$link")" in pam-mapi-worker.socket|pam-mapi-worker.service) ;; *) continue;; esac
  rm -f "$link"
  rmdir "$(dirname "$link")" 2>/dev/null || true
done

dirs=()
accounts=()
while IFS= read -r line; do
  case "$line" in */) dirs+=("$DESTDIR${line%/}"); continue;; esac
  # "user NAME" / "group NAME": an account the install created (removed last, below).
  case "$line" in "user "*|"group "*) accounts+=("$line"); continue;; esac
  path=${line%% sha256=*}
  target=$DESTDIR$path
  if [ "$line" != "$path" ]; then
    want=${line##* sha256=}
    if [ -f "$target" ] && [ "$(sha256sum "$target" | cut -d' ' -f1)" != "$want" ]; then
      echo "uninstall-system: keeping $path: it was changed after installation"; continue
    fi
  fi
  [ "$path" = "$PREFIX/lib/pam_mapi/installed-files" ] && continue
  rm -f "$target"
done < "$manifest"
rm -f "$manifest"

# What the installed programs made: the pam.d baseline (install saved it) and the socket
# directory (the worker or the socket unit made it); each only when nothing else is in it.
rm -f "$DESTDIR/var/lib/pam_mapi/pam.d-baseline.json" "$DESTDIR/run/pam_mapi/worker.sock" "$DESTDIR/run/pam_mapi/worker.pid"
rmdir "$DESTDIR/var/lib/pam_mapi" "$DESTDIR/run/pam_mapi" 2>/dev/null || true
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
# The accounts the install created, users before their groups; only on a live system.
if [ -z "$DESTDIR" ]; then
  for a in "${accounts[@]}"; do case "$a" in "user "*) getent passwd "${a#user }" >/dev/null && userdel "${a#user }" || true;; esac; done
  for a in "${accounts[@]}"; do case "$a" in "group "*) getent group "${a#group }" >/dev/null && groupdel "${a#group }" || true;; esac; done
fi
# The directories the install created, deepest first, where they are now empty.
for d in "${dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
echo "pam_mapi removed from ${DESTDIR:-/}"

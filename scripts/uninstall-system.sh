#!/usr/bin/env bash
# npm run uninstall:system -- removes what install-system.sh installed, and nothing else:
# the files its manifest lists; /etc/pam_mapi.conf only while it is unchanged since install.
set -euo pipefail
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
manifest=$DESTDIR$PREFIX/lib/pam_mapi/installed-files
[ -f "$manifest" ] || { echo "uninstall-system: nothing installed under ${DESTDIR}${PREFIX} (no $manifest)" >&2; exit 1; }
while IFS= read -r line; do
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
# Remove the directories the install created, where they are now empty.
find "$DESTDIR$PREFIX/lib/pam_mapi" "$DESTDIR$PREFIX/share/doc/pam_mapi" -depth -type d -empty -delete 2>/dev/null || true
echo "pam_mapi removed from ${DESTDIR:-/}"

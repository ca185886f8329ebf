#!/usr/bin/env bash
# npm run deb: builds build/pam-mapi_VERSION_ARCH.deb with dpkg-deb from the same staging tree
# npm run install:system writes (DESTDIR, PREFIX=/usr). /etc/pam_mapi.conf is a conffile; the
# postinst saves the first pam.d baseline and reloads systemd.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
stage=$(mktemp -d /tmp/pam_mapi-deb-XXXXXX)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" PREFIX=/usr bash scripts/install-system.sh >/dev/null
# The manifest is for uninstall-system.sh; dpkg keeps its own list.
rm -f "$stage/usr/lib/pam_mapi/installed-files"
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: pam-mapi
Version: $version
Architecture: $arch
Maintainer: pam_mapi developers <root@localhost>
Depends: libpam0g, libkrb5-3, nodejs (>= 20) | node (>= 20)
Section: admin
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: PAM module for mail services backed by Zarafa/Kopano or LDAP
 pam_mapi.so authenticates SMTP AUTH (saslauthd), IMAP and POP3 users who live
 in a Zarafa/Kopano user database (salted MD5), an LDAP directory or a users
 file, through a small worker (pam-mapi-worker) on a local socket.
CONTROL
echo /etc/pam_mapi.conf > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  chmod 600 /etc/pam_mapi.conf
  pam-mapi doctor --save-baseline >/dev/null || true
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
POSTINST
chmod 755 "$stage/DEBIAN/postinst"
mkdir -p build
out=build/pam-mapi_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "$out"

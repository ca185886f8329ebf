#!/usr/bin/env bash
# npm run deb: builds build/pam-mapi_VERSION_ARCH.deb, a binary package laid out as Debian does
# it (everything under /usr, PAM module in /usr/lib/<triplet>/security), from the staging tree
# `npm run install:system` writes (DESTDIR, PREFIX=/usr). lintian checks it (build/lintian.txt).
#   DEBFULLNAME / DEBEMAIL: the Maintainer (the variables Debian's own tools read).
#   DEB_OUTDIR: where the package and lintian.txt go (default build/).
# What the package does on install, upgrade, remove and purge is in scripts/debian/ (postinst,
# prerm, postrm); test/integration/deb-package.test.ts runs them all with dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022
name=pam-mapi
# The upstream version and Debian revision 1: the Debian changes are described in
# changelog.Debian, the upstream ones in README.md.
version=$(node -p "require('./package.json').version")-1
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
maintainer="${DEBFULLNAME:-pam_mapi maintainers} <${DEBEMAIL:-pam-mapi@lists.example.org}>"
# Reproducible: the dates in the package are the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# From the build in place (npm run build): rebuilding here would swap the module under running
# tests. binding.gyp gives the module the hardening flags (relro, now, fortify, stack protector).
stage=$(mktemp -d /tmp/pam_mapi-deb-XXXXXX)
work=$(mktemp -d /tmp/pam_mapi-debwork-XXXXXX)
trap 'rm -rf "$stage" "$work"' EXIT
chmod 0755 "$stage"
DESTDIR="$stage" PREFIX=/usr PAM_MODULE_DIR=/usr/lib/$multiarch/security NODE=/usr/bin/node \
  SYSTEMD_UNIT_DIR=/usr/lib/systemd/system bash scripts/install-system.sh >/dev/null
# install-system's manifest is for uninstall-system.sh: dpkg keeps its own list. The config and
# the users file are made by the postinst on first install (never shipped as conffiles, so no
# upgrade ever prompts about them); the sample they come from stays in /usr/share.
rm -f "$stage/usr/lib/pam_mapi/installed-files" "$stage/etc/pam_mapi.conf" "$stage/etc/pam_mapi/users"
rmdir "$stage/etc/pam_mapi" "$stage/etc"
install -D -m 0644 scripts/pam_mapi.conf.sample "$stage/usr/share/$name/pam_mapi.conf"

doc=$stage/usr/share/doc/$name
# Debian's rules for shipped files: stripped objects, compressed manual pages and changelog.
find "$stage" -type f \( -name '*.so' -o -name '*.node' \) -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
find "$stage/usr/share/man" -type f -exec gzip -9n {} +
# The bundled modules' license texts are in the copyright file.
find "$stage/usr/lib/pam_mapi/node_modules" -type f -iregex '.*/\(licen[cs]e\|copying\)\(\.txt\|\.md\)?' -delete
find "$stage/usr/lib/pam_mapi/node_modules" -mindepth 1 -type d -empty -delete
cat > "$work/changelog" <<CHANGELOG
$name ($version) unstable; urgency=medium

  * Package of pam_mapi ${version%-*}. See README.md and the manual pages.

 -- $maintainer  $(date -R -u -d "@$SOURCE_DATE_EPOCH")
CHANGELOG
gzip -9n < "$work/changelog" > "$doc/changelog.Debian.gz"
deps=$(cd "$stage/usr/lib/pam_mapi" && find node_modules -mindepth 1 -maxdepth 2 -name package.json -printf '%h\n' | sort)
node scripts/debian/copyright.js $deps > "$doc/copyright"
install -D -m 0644 scripts/debian/lintian-overrides "$stage/usr/share/lintian/overrides/$name"
chmod 0644 "$doc/copyright" "$doc/changelog.Debian.gz"

# Depends: what the compiled parts link (dpkg-shlibdeps reads their ELF NEEDED entries), Node
# from Debian 12 on (18.19 is Ubuntu 24.04's, 18.20 Debian 12's; the worker is tested on it),
# adduser for the system user, init-system-helpers for deb-systemd-helper/-invoke.
mkdir -p "$work/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" > "$work/debian/control"
objects=$(find "$stage" -type f \( -name '*.so' -o -name '*.node' \))
shlibs=$(cd "$work" && dpkg-shlibdeps -O $objects 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
depends="$shlibs, nodejs (>= 18.19~), adduser, init-system-helpers (>= 1.54~)"

mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Section: admin
Priority: optional
Description: PAM module for mail services backed by Zarafa/Kopano or LDAP
 pam_mapi.so authenticates SMTP AUTH (saslauthd), IMAP and POP3 users who live
 in a Zarafa/Kopano user database (salted MD5), an LDAP directory or a users
 file, through a small worker (pam-mapi-worker) on a local socket.
CONTROL
for script in postinst prerm postrm; do install -m 0755 "scripts/debian/$script" "$stage/DEBIAN/$script"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

outdir=${DEB_OUTDIR:-build}
mkdir -p "$outdir"
out=$outdir/${name}_${version}_${arch}.deb
# Built beside and renamed: a reader never sees half a package.
dpkg-deb --root-owner-group -Zxz --build "$stage" "$work/new.deb" >/dev/null
mv "$work/new.deb" "$out"
if command -v lintian >/dev/null; then
  # As an unprivileged user, as lintian asks (from a copy: the checkout may be private).
  lint=(lintian --info --display-info --pedantic)
  cp "$out" "$work/" && chmod 0755 "$work" && chmod 0644 "$work/$(basename "$out")"
  if [ "$(id -u)" -eq 0 ]; then lint=(runuser -u nobody -- env HOME="$work" "${lint[@]}"); fi
  (cd "$work" && "${lint[@]}" "$(basename "$out")") > "$outdir/lintian.txt" 2>&1 || true
fi
echo "$out"

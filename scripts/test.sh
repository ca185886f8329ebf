#!/usr/bin/env bash
# Runs every test. The module writes syslog lines through /dev/log; the tests read them from a
# private syslog socket. As root the tests run in a private mount namespace: where a system syslog
# already owns /dev/log, a bind mount puts the test socket over it for them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ] && [ -z "${PAM_MAPI_TEST_NS:-}" ]; then
  exec unshare --mount --propagation private env PAM_MAPI_TEST_NS=1 bash "$0" "$@"
fi
# Some tests run processes as other users (nobody, the worker's own user), which must read the
# built tree. A checkout below a private directory (root's home, mode 0700, where root clones)
# is out of their reach: inside the namespace the checkout is bind-mounted at a path they can
# traverse, and the tests run from there. The mount ends with the namespace.
if [ -n "${PAM_MAPI_TEST_NS:-}" ] && ! runuser -u nobody -- test -r "$PWD/package.json" 2>/dev/null; then
  tree=$(mktemp -d /tmp/pam_mapi-tree-XXXXXX)
  chmod 755 "$tree"
  mount --bind "$PWD" "$tree"
  trap 'cd /; umount "$tree" 2>/dev/null; rmdir "$tree" 2>/dev/null' EXIT
  cd "$tree"
  if ! runuser -u nobody -- test -r "$tree/package.json"; then
    echo "test: the checkout itself is private (mode $(stat -c %a .)); tests that run as other users cannot read it" >&2
    exit 1
  fi
fi
# The libpam client runs each transaction on libuv's thread pool: 4 threads would serialise
# the concurrency tests.
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-64}
# The secrets audit: the whole run logs at debug level (module and worker), every password the
# tests use is recorded, and afterwards every log is searched for every one of them.
audit=$(mktemp -d /tmp/pam_mapi-audit-XXXXXX)
export PAM_MAPI_TEST_AUDIT_DIR=$audit PAM_MAPI_TEST_DEBUG=1
set +e
node_modules/.bin/jest --ci "$@"
rc=$?
node dist/test/helpers/audit-secrets.js "$audit" || rc=1
set -e
rm -rf "$audit"
exit $rc

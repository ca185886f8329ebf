#!/usr/bin/env bash
# Runs every test. The module writes syslog lines through /dev/log; the tests read them from a
# private syslog socket. When a system syslog already owns /dev/log, the tests run in a private
# mount namespace where a bind mount puts the test socket over /dev/log for them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e /dev/log ] && [ -z "${PAM_MAPI_TEST_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
  exec unshare --mount --propagation private env PAM_MAPI_TEST_NS=1 bash "$0" "$@"
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

#!/usr/bin/env bash
# npm run valgrind [-- COUNT]: a loop of real PAM transactions (right and wrong passwords, auth
# and account) through the built pam_mapi.so under valgrind --leak-check=full, against a worker
# with a file store. Fails on any memory error, or on any record whose stack passes through
# pam_mapi.so (libpam's and libc's own records are shown, not judged).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-300}
command -v valgrind >/dev/null || { echo "valgrind: apt-get install valgrind" >&2; exit 1; }
dir=$(mktemp -d /tmp/pam_mapi-valgrind-XXXXXX)
wpid=
trap '[ -n "$wpid" ] && kill $wpid 2>/dev/null; rm -rf "$dir"' EXIT
node -e "
const { usersFileLine } = require('./dist/src/sandbox/sandbox.js');
require('fs').writeFileSync('$dir/users', usersFileLine({ login: 'alice', password: 'wonderland' }) + '\n', { mode: 0o600 });"
printf '[worker]\nsocket = %s/worker.sock\n[store]\npath = %s/users\n' "$dir" "$dir" > "$dir/pam_mapi.conf"
chmod 600 "$dir/pam_mapi.conf"
mkdir "$dir/pam.d"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$dir/pam.d/other"
printf 'auth required %s/build/Release/pam_mapi.so try_first_pass worker=%s/worker.sock\naccount required %s/build/Release/pam_mapi.so worker=%s/worker.sock\n' "$PWD" "$dir" "$PWD" "$dir" > "$dir/pam.d/smtp"
dist/src/worker/main.js --config "$dir/pam_mapi.conf" 2> "$dir/worker.log" &
wpid=$!
for _ in $(seq 100); do [ -S "$dir/worker.sock" ] && break; sleep 0.05; done
mkdir -p build
set +e
valgrind --leak-check=full --show-leak-kinds=all --keep-debuginfo=yes --error-exitcode=3 --log-file=build/valgrind.log \
  build/Release/pam_load -d "$dir/pam.d" -s smtp -u alice -p wonderland -n "$count" -r 3
rc=$?
set -e
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|total heap usage' build/valgrind.log | sed 's/^==[0-9]*== //'
if grep -q 'pam_mapi.so' build/valgrind.log; then
  echo "valgrind: a record in build/valgrind.log passes through pam_mapi.so" >&2
  grep -n -B2 -A12 'pam_mapi.so' build/valgrind.log | head -60 >&2
  exit 1
fi
[ $rc -eq 0 ] || { echo "valgrind: errors (exit $rc), see build/valgrind.log" >&2; exit 1; }
echo "valgrind: $count transactions, no memory error, nothing leaked through pam_mapi.so"

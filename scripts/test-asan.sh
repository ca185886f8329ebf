#!/usr/bin/env bash
# npm run test:asan: builds pam_mapi.so with AddressSanitizer and UBSan (same sources and flags
# as the real one) and runs the test suites that load the module through libpam with it.
# Node is not instrumented, so the ASan runtime is preloaded; any error in the module aborts
# the process and fails the run. Leak checking is valgrind's job (npm run valgrind): at exit
# ASan would report Node's own allocations. mail-stack is left out by default: its jest worker once
# died of SIGSEGV under the preloaded runtime, with no ASan report (Node, not the module).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/asan
mkdir -p "$out"
node scripts/gen-protocol-header.js src/protocol/constants.json "$out/gen/pam_mapi_protocol.h"
gcc -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fPIC -shared -fvisibility=hidden \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -Wall -Wextra \
  -I"$out/gen" -Inative/shim native/shim/pam_mapi.c native/shim/channel.c native/shim/frame.c \
  -Wl,--version-script=native/shim/pam_mapi.map -o "$out/pam_mapi.so" -lpam
asan=$(gcc -print-file-name=libasan.so)
export PAM_MAPI_TEST_PRELOAD=$asan
export PAM_MAPI_TEST_MODULE=$PWD/$out/pam_mapi.so
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
suites=${*:-outcomes worker-socket zarafa-store faults cli kept-connection}
# Only the test runner gets the runtime; the daemons the tests start set their own LD_PRELOAD.
LD_PRELOAD="$asan" bash scripts/test.sh $suites

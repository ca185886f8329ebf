#!/usr/bin/env bash
# npm run fuzz [-- SECONDS]: builds the libFuzzer harness for the module's frame decoding with
# AddressSanitizer and UBSan (clang-14) and runs it for SECONDS (default 120) on a copy of the
# seed corpus in test/fuzz-corpus/frames. Crashes are saved under build/fuzz/ as crash-*;
# each one found becomes a test. Prints the executions and coverage it reached.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
    cc=clang-14
  else
    echo "fuzz: needs clang-14 and libclang-rt-14-dev (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1
  fi
fi
mkdir -p build/fuzz/corpus
node scripts/gen-protocol-header.js src/protocol/constants.json build/fuzz/gen/pam_mapi_protocol.h
"$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Ibuild/fuzz/gen -Inative/shim native/shim/frame.c native/fuzz/fuzz_frames.c -o build/fuzz/fuzz_frames
cp -n test/fuzz-corpus/frames/* build/fuzz/corpus/ 2>/dev/null || true
cd build/fuzz
./fuzz_frames -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=./ corpus 2>&1 | tee fuzz.log | grep -E '^#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY' || true
if ls crash-* leak-* timeout-* >/dev/null 2>&1; then
  echo "fuzz: findings in build/fuzz: $(ls crash-* leak-* timeout-* 2>/dev/null | tr '\n' ' ')" >&2
  exit 1
fi
echo "fuzz: no findings in ${seconds}s"

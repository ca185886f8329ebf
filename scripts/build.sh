#!/usr/bin/env bash
# Builds pam_mapi.so and the libpam client addon (node-gyp), then the TypeScript (tsc).
set -euo pipefail
cd "$(dirname "$0")/.."
gyp=node_modules/.bin/node-gyp
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  "$gyp" configure --loglevel=warn ${PAM_MAPI_GYP_ARGS:-}
fi
"$gyp" build --loglevel=warn -j 2
node_modules/.bin/tsc -p .
chmod 755 dist/src/worker/main.js
[ -f dist/src/cli/main.js ] && chmod 755 dist/src/cli/main.js
exit 0

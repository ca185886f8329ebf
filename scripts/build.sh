#!/usr/bin/env bash
# Builds pam_mapi.so and the libpam client addon (node-gyp), then the TypeScript (tsc).
set -euo pipefail
cd "$(dirname "$0")/.."
gyp=node_modules/.bin/node-gyp
# node-gyp downloads Node's headers unless told where they are, and nothing can be downloaded
# here: use the headers installed with the running node (Debian/NodeSource: /usr/include/node).
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
nodedir_arg=()
if [ -f "$nodedir/include/node/node.h" ]; then
  nodedir_arg=(--nodedir="$nodedir")
elif [ -z "${npm_config_nodedir:-}" ]; then
  echo "build: no Node headers in $nodedir/include/node; node-gyp would try to download them" >&2
fi
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  "$gyp" configure --loglevel=warn "${nodedir_arg[@]}"
fi
"$gyp" build --loglevel=warn -j 2 "${nodedir_arg[@]}"
node_modules/.bin/tsc -p .
chmod 755 dist/src/worker/main.js
[ -f dist/src/cli/main.js ] && chmod 755 dist/src/cli/main.js
exit 0

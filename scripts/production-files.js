#!/usr/bin/env node
// Lists the files of the built tree that production runs: the compiled modules reachable by
// require() from the two programs (pam-mapi-worker and pam-mapi) and the Node addons they load.
// install-system.sh and deb.sh copy exactly these, so the sandboxes, the demo and the test
// helpers (src/sandbox/, src/demo/, the secrets audit) stay out of an installed system, and a
// new module is shipped as soon as a program imports it. Paths are relative to the repository.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const entries = ['dist/src/worker/main.js', 'dist/src/cli/main.js'];

// tsc compiles `import x from './y'` to `require("./y")`; only relative requires name our files
// (the others are Node's modules or production dependencies, which install-system.sh takes
// from `npm ls --omit=dev`).
const REQUIRE = /\brequire\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`production-files: ${path.relative(root, from)} requires ${spec}, which is not in the build`);
}

const seen = new Set();
const queue = entries.map((e) => path.join(root, e));
while (queue.length > 0) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  if (!fs.existsSync(file)) throw new Error(`production-files: ${path.relative(root, file)} is missing: build first (npm run build)`);
  seen.add(file);
  if (!file.endsWith('.js')) continue;
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(REQUIRE)) queue.push(resolve(file, m[1]));
}
// The addons are loaded by a computed path (src/pam/client.ts), which no pattern can follow:
// every addon the build made ships.
const release = path.join(root, 'build/Release');
for (const f of fs.readdirSync(release)) if (f.endsWith('.node')) seen.add(path.join(release, f));

for (const f of [...seen].map((p) => path.relative(root, p)).sort()) process.stdout.write(`${f}\n`);

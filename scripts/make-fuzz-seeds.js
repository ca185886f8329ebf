#!/usr/bin/env node
// Writes the seed corpus for the frame fuzzer: each file is a worker frame as the real worker
// sends it (built with the worker's own encoder, from dist/).
'use strict';
const fs = require('fs');
const path = require('path');
const m = require('../dist/src/protocol/messages.js');

const out = path.join(__dirname, '../test/fuzz-corpus/frames');
fs.mkdirSync(out, { recursive: true });
const seeds = {
  'result-success': [m.resultFrame('SUCCESS', 0, [])],
  'result-auth-err-logged': [m.resultFrame('AUTH_ERR', 2000000, [{ level: 'NOTICE', text: 'authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=192.0.2.1 user=alice' }])],
  'result-many-logs': [m.resultFrame('AUTHINFO_UNAVAIL', 0, Array.from({ length: 16 }, (_, i) => ({ level: 'ERR', text: `error ${i}` })))],
  'result-kept': [m.resultFrame('SUCCESS', 2000000, [{ level: 'DEBUG', text: 'x' }], 5000)],
  'error-version': [m.errorFrame('VERSION', 'the worker speaks protocol version 2, the module 1')],
  'error-peer': [m.errorFrame('PEER_REFUSED', 'uid 65534 is not allowed')],
};
for (const [name, frames] of Object.entries(seeds)) fs.writeFileSync(path.join(out, name), Buffer.concat(frames));
console.log(`wrote ${Object.keys(seeds).length} seeds to ${out}`);

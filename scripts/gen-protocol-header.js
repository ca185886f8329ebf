#!/usr/bin/env node
// Generates the C header of the wire protocol (and of the module's transport defaults) from
// src/protocol/constants.json, so the shim and the worker read their numbers from one file.
// Usage: gen-protocol-header.js constants.json out.h
'use strict';
const fs = require('fs');
const path = require('path');

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: gen-protocol-header.js constants.json out.h');
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(input, 'utf8'));
const lines = [
  '/* Generated from src/protocol/constants.json by scripts/gen-protocol-header.js. Do not edit. */',
  '#ifndef PAM_MAPI_PROTOCOL_H',
  '#define PAM_MAPI_PROTOCOL_H',
  '',
  `#define PMP_VERSION ${spec.version}u`,
  `#define PMP_HEADER_SIZE ${spec.headerSize}u`,
  `#define PMP_MAX_PAYLOAD ${spec.maxPayload}u`,
  `#define PMP_MAX_ARGS ${spec.maxArgs}u`,
  '/* The system user the worker runs as; the module trusts it besides root (channel.c). */',
  `#define PMP_WORKER_USER ${JSON.stringify(spec.workerUser)}`,
];
if (!/^[a-z_][a-z0-9_-]*$/.test(spec.workerUser)) throw new Error(`workerUser ${spec.workerUser} is not a user name`);
for (const [name, value] of Object.entries(spec.limits)) {
  lines.push(`#define PMP_LIMIT_${name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()} ${value}u`);
}
const groups = {
  messages: 'PMP_MSG_', fields: 'PMP_F_', ops: 'PMP_OP_', results: 'PMP_R_',
  passwordFrom: 'PMP_PW_', logLevels: 'PMP_LOG_', errors: 'PMP_E_',
};
for (const [group, prefix] of Object.entries(groups)) {
  lines.push('');
  for (const [name, value] of Object.entries(spec[group])) {
    lines.push(`#define ${prefix}${name} ${value}u`);
  }
}
// The transport arguments the shim reads: plain int and string constants, as the shim had them.
lines.push('',
  `#define PMP_DEFAULT_SOCKET ${JSON.stringify(spec.module.defaultSocket)}`,
  `#define PMP_DEFAULT_TIMEOUT_S ${spec.module.defaultTimeoutSeconds}`,
  `#define PMP_MAX_TIMEOUT_S ${spec.module.maxTimeoutSeconds}`);
lines.push('', '#endif', '');
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, lines.join('\n'));

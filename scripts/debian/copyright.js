#!/usr/bin/env node
// Writes the package's debian/copyright (machine-readable format 1.0) to standard output: this
// project under the GPL, then one paragraph for each bundled production dependency, with its
// license as npm records it and the text of its own license file.
//   node copyright.js DEPDIR... (the directories as installed under /usr/lib/pam_mapi)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const year = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).getUTCFullYear();

/** A multi-line text as the body of a field: each line indented, empty lines as " .". */
const body = (text) => text.replace(/\s+$/, '').split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l.replace(/\s+$/, '')}`)).join('\n');

const out = [`Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pam_mapi

Files: *
Copyright: ${year} pam_mapi developers
License: GPL-2+
 This program is free software; you can redistribute it and/or modify it under
 the terms of the GNU General Public License as published by the Free Software
 Foundation; either version 2 of the License, or (at your option) any later
 version.
 .
 This program is distributed in the hope that it will be useful, but WITHOUT ANY
 WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A
 PARTICULAR PURPOSE. See the GNU General Public License for more details.
 .
 On Debian systems, the complete text of the GNU General Public License version 2
 can be found in /usr/share/common-licenses/GPL-2.`];

const COMMON = { 'Apache-2.0': 'Apache-2.0', 'GPL-2.0': 'GPL-2', 'GPL-3.0': 'GPL-3', 'LGPL-2.1': 'LGPL-2.1', 'MPL-2.0': 'MPL-2.0' };

for (const rel of process.argv.slice(2)) {
  const dir = path.join(root, rel);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const license = typeof pkg.license === 'string' ? pkg.license : 'UNKNOWN';
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(txt|md))?$/i.test(f));
  const text = file ? fs.readFileSync(path.join(dir, file), 'utf8') : '';
  const notices = text.split('\n').map((l) => l.trim()).filter((l) => /^copyright\b/i.test(l) && /\d{4}|\(c\)/i.test(l))
    .map((l) => l.replace(/^copyright\s*(\(c\)|©)?\s*/i, ''));
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  const copyright = notices.length > 0 ? notices : [author ?? `the ${pkg.name} authors`];
  let licenseText;
  if (COMMON[license]) licenseText = `On Debian systems, the complete text of the license can be found in\n/usr/share/common-licenses/${COMMON[license]}.`;
  else if (text !== '') licenseText = text;
  else licenseText = `${license}, as declared in ${pkg.name}'s package.json (no license file is distributed).`;
  out.push(`Files: usr/lib/pam_mapi/${rel}/*
Copyright: ${copyright.join('\n ')}
License: ${license}
${body(licenseText)}`);
}
process.stdout.write(out.join('\n\n') + '\n');

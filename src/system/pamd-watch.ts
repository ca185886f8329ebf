// What the worker says about /etc/pam.d when it starts: that no service uses pam_mapi, or that
// a service recorded in the baseline lost its stanza. An upgrade that deletes /etc/pam.d/smtp
// then shows up in the worker's log at the next restart, not hours later from angry users.
import fs from 'fs';
import path from 'path';
import { Logger } from '../log/logger';
import { loadBaseline } from './baseline';
import { readPamDir, usesPamMapi } from './pamd';
import { SystemRoot } from './root';

export function reportPamDrift(root: SystemRoot, logger: Logger): void {
  const files = readPamDir(root.pamDir);
  const users = files.filter(usesPamMapi).map((f) => f.service);
  if (users.length === 0) {
    logger.log('warning', 'pamd.unused', { dir: root.pamDir, hint: 'no service file uses pam_mapi.so; mail logins never reach this worker' });
  }
  const baseline = loadBaseline(root);
  for (const service of Object.keys(baseline?.services ?? {})) {
    const file = path.join(root.pamDir, service);
    if (!fs.existsSync(file)) logger.log('warning', 'pamd.stanza_gone', { service, file, fix: `pam-mapi doctor --restore ${service}` });
    else if (!users.includes(service)) logger.log('warning', 'pamd.stanza_gone', { service, file, why: 'no longer uses pam_mapi.so', fix: `pam-mapi doctor --restore ${service}` });
  }
}

// makeOpenDir: the socket's and the pid file's directory, and every parent it makes, 0755 under
// any umask (the unit's UMask=0077): a parent left 0700 would close the socket to other users.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { makeOpenDir } from '../../src/worker/server';

test('under umask 077 every directory it makes is 0755; one that exists keeps its mode', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-opendir-'));
  const before = process.umask(0o077);
  try {
    fs.mkdirSync(path.join(base, 'kept'), { mode: 0o710 });
    fs.chmodSync(path.join(base, 'kept'), 0o710);
    makeOpenDir(path.join(base, 'kept/run/pam_mapi'));
    const mode = (p: string): string => (fs.statSync(path.join(base, p)).mode & 0o777).toString(8);
    expect([mode('kept'), mode('kept/run'), mode('kept/run/pam_mapi')]).toEqual(['710', '755', '755']);
    makeOpenDir(path.join(base, 'kept/run/pam_mapi')); // there already: nothing changes
    expect(mode('kept/run/pam_mapi')).toBe('755');
  } finally {
    process.umask(before);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

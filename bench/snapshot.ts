// The build a run measures, copied at its start into the run's private directory: the worker
// (dist/src), pam_mapi.so, the addon and pam_load. A rebuild of the checkout during the run (the
// workers restart at every user count) then cannot mix two versions in one set of figures.
import fs from 'fs';
import path from 'path';
import { REPO_ROOT } from '../src/sandbox/sandbox';

export interface Snapshot {
  workerMain: string;
  module: string;
  pamLoad: string;
  /** When the copied build was made (mtimes of the worker's entry and of the module). */
  built: string;
}

const BINARIES = ['pam_mapi.so', 'pam_load'];

export function takeSnapshot(dir: string): Snapshot {
  const root = path.join(dir, 'build-snapshot');
  fs.cpSync(path.join(REPO_ROOT, 'dist/src'), path.join(root, 'dist/src'), { recursive: true });
  const release = path.join(root, 'build/Release');
  fs.mkdirSync(release, { recursive: true });
  // Every addon: the worker loads some of them only when a store needs them (krb5_check.node for
  // the krb5 store, system_crypt.node for crypt(3) values), so a missing one showed only as
  // failed logins.
  const addons = fs.readdirSync(path.join(REPO_ROOT, 'build/Release')).filter((f) => f.endsWith('.node'));
  for (const f of [...BINARIES, ...addons]) {
    fs.copyFileSync(path.join(REPO_ROOT, 'build/Release', f), path.join(release, f));
    fs.chmodSync(path.join(release, f), 0o755);
  }
  // The worker's npm dependencies, found by Node's lookup from dist/src upwards.
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  const mtime = (f: string): string => fs.statSync(path.join(REPO_ROOT, f)).mtime.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    workerMain: path.join(root, 'dist/src/worker/main.js'),
    module: path.join(release, 'pam_mapi.so'),
    pamLoad: path.join(release, 'pam_load'),
    built: `worker ${mtime('dist/src/worker/main.js')}, pam_mapi.so ${mtime('build/Release/pam_mapi.so')}`,
  };
}

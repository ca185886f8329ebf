// pam_mapi.so is a plain PAM module: it exports the three pam_sm_* functions and nothing else of
// ours, links libpam (and libc) only, and needs nothing from Node.
import { execFileSync } from 'child_process';
import { MODULE_PATH } from '../../src/sandbox/sandbox';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

test('exports exactly pam_sm_authenticate, pam_sm_acct_mgmt, pam_sm_setcred', () => {
  const defined = run('nm', ['-D', '--defined-only', MODULE_PATH])
    .split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/).pop());
  expect(defined.sort()).toEqual(['pam_sm_acct_mgmt', 'pam_sm_authenticate', 'pam_sm_setcred']);
});

test('no undefined Node, V8, libuv or C++ symbols', () => {
  const undef = run('nm', ['-D', '--undefined-only', MODULE_PATH]);
  expect(undef).not.toMatch(/napi_|node::|v8|uv_|_Z|__cxa_(?!finalize)|__gxx/);
});

test('depends on libpam and libc only', () => {
  const needed = run('readelf', ['-d', MODULE_PATH]).split('\n').filter((l) => l.includes('(NEEDED)'))
    .map((l) => /\[(.*)\]/.exec(l)?.[1]);
  expect(needed.sort()).toEqual(['libc.so.6', 'libpam.so.0']);
  const ldd = run('ldd', [MODULE_PATH]);
  expect(ldd).not.toMatch(/libstdc\+\+|libnode|node/);
});

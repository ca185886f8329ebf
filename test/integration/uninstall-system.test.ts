// npm run install:system then uninstall:system on a live system (a throwaway overlay root, see
// test/helpers/overlay-root.ts), with what an administrator does in between: the socket unit
// enabled, the worker running in daemon mode. Afterwards nothing of pam_mapi is left.
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { OverlayRoot, Ran } from '../helpers/overlay-root';

let root: OverlayRoot;

const ok = (r: Ran): string => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

beforeAll(async () => {
  root = await OverlayRoot.create();
  // The checkout, read-only, at the same path inside (it may live on another file system).
  ok(root.outside(`mkdir -p '${root.merged}${REPO_ROOT}' && mount --bind '${REPO_ROOT}' '${root.merged}${REPO_ROOT}' && mount -o remount,bind,ro '${root.merged}${REPO_ROOT}'`));
});

afterAll(async () => {
  root?.run('[ -f /run/pam_mapi/worker.pid ] && kill $(cat /run/pam_mapi/worker.pid) || true');
  await root?.close();
});

test('uninstall:system leaves nothing of its own: no baseline, no enable symlink, no empty directory, no worker', () => {
  const before = root.changes();
  ok(root.run(`bash ${REPO_ROOT}/scripts/install-system.sh`));
  expect(ok(root.run('ls /var/lib/pam_mapi'))).toBe('pam.d-baseline.json\n');
  // What the install's "next:" line tells the administrator to do, and a worker for a host
  // without systemd.
  ok(root.run('systemctl enable pam-mapi-worker.socket 2>&1'));
  expect(root.run('test -L /etc/systemd/system/sockets.target.wants/pam-mapi-worker.socket').status).toBe(0);
  ok(root.run('pam-mapi-worker --daemon --pid-file /run/pam_mapi/worker.pid'));
  const pid = ok(root.run('cat /run/pam_mapi/worker.pid')).trim();

  ok(root.run(`bash ${REPO_ROOT}/scripts/uninstall-system.sh`));
  expect(root.run(`test -d /proc/${pid}`).status).not.toBe(0);
  const after = root.changes();
  const left = [...after].filter(([p, line]) => before.get(p) !== line).map(([, line]) => line);
  for (const [p, line] of before) if (!after.has(p)) left.push(`gone: ${line}`);
  expect(left).toEqual([]);
});

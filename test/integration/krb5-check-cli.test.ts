// pam-mapi check against a Kerberos store (a private MIT KDC), as an administrator runs it.
import path from 'path';
import { spawnSync } from 'child_process';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const cli = (args: string[], input: string): { status: number | null; stdout: string } => {
  recordSecret(input.trim());
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
};

let kdc: PrivateKdc;
let box: Sandbox;

beforeAll(async () => {
  kdc = await PrivateKdc.start({ port: await freePort(), principals: [
    { name: 'alice', password: 'krb-wonderland' },
    { name: 'stale', password: 'krb-stale-pw', options: ['-pwexpire', '2001-01-01'] },
  ] });
  box = Sandbox.create();
  await box.startWorker(box.writeConfig(`[store]\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${kdc.address}\nkeytab = ${kdc.keytabFile}\n`));
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await kdc?.destroy();
});

test('right password: exit 0; wrong: PAM_AUTH_ERR; expired password: PAM_NEW_AUTHTOK_REQD with its reason', () => {
  const ok = cli(['check', 'alice', '--worker', box.socketPath], 'krb-wonderland\n');
  expect(ok.stdout).toBe('authenticate PAM_SUCCESS (Success)\nacct_mgmt    PAM_SUCCESS (Success)\nalice: accepted\n');
  expect(ok.status).toBe(0);
  const bad = cli(['check', 'alice', '--worker', box.socketPath], 'krb-nope\n');
  expect(bad.stdout).toMatch(/^authenticate PAM_AUTH_ERR .*\n(.*\n)*alice: refused \(PAM_AUTH_ERR\)\n$/);
  expect(bad.status).toBe(1);
  const stale = cli(['check', 'stale', '--worker', box.socketPath], 'krb-stale-pw\n');
  expect(stale.stdout).toMatch(/authenticate PAM_NEW_AUTHTOK_REQD .*\n(.*\n)*reason +authenticate: NEW_AUTHTOK_REQD \(the password has expired\)\n(.*\n)*stale: refused \(PAM_NEW_AUTHTOK_REQD\)\n$/);
  expect(stale.status).toBe(1);
});

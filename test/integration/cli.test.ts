// pam-mapi hash and check, run as an administrator would run them.
import { execFileSync, spawn, spawnSync } from 'child_process';
import path from 'path';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const cli = (args: string[], input: string): { status: number | null; stdout: string; stderr: string } => {
  recordSecret(input.trim());
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('pam-mapi hash', () => {
  test('prints salt + md5hex(salt + password) for a password read from stdin', () => {
    const r = cli(['hash'], 'pässwörd\n');
    expect(r.status).toBe(0);
    const value = r.stdout.trim();
    expect(value).toMatch(/^[0-9a-f]{40}$/);
    // Checked with md5sum, not with the code under test.
    const md5 = execFileSync('md5sum', [], { input: Buffer.concat([Buffer.from(value.slice(0, 8)), Buffer.from('pässwörd', 'utf8')]) }).toString().split(' ')[0];
    expect(value.slice(8)).toBe(md5);
  });
  test('an empty password is refused', () => {
    const r = cli(['hash'], '\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });
  test('on a terminal the password is not echoed', async () => {
    // script(1) gives the command a pseudo-terminal; what it prints is what the user would see.
    // The password is typed once the prompt is shown, as a person would.
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} hash`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => {
      const before = screen;
      screen += d.toString('utf8');
      if (!before.includes('Password: ') && screen.includes('Password: ')) setTimeout(() => child.stdin.write('tty-secret-42\r'), 100);
    });
    await new Promise((r) => child.once('exit', r));
    expect(screen).toMatch(/Password: /);
    expect(screen).toMatch(/[0-9a-f]{40}/);
    expect(screen).not.toContain('tty-secret-42');
  });
});

describe('pam-mapi check against a private MariaDB', () => {
  let db: PrivateMariaDB;
  let box: Sandbox;
  beforeAll(async () => {
    db = await PrivateMariaDB.start();
    await createKopanoDatabase(db, 'kopano');
    await insertKopanoUser(db, 'kopano', { login: 'alice', password: 'wonderland' });
    await insertKopanoUser(db, 'kopano', { login: 'bob', password: 'builder', enabled: ['imap'] });
    await db.createReader('kopano', 'pw', 'kopano');
    box = Sandbox.create();
    const config = box.writeConfig(`[store]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n`);
    box.service('smtp', [`auth required {module} try_first_pass ${box.workerArg}`, `account required {module} ${box.workerArg}`]);
    await box.startWorker(config);
  }, 60000);
  afterAll(async () => {
    await box?.cleanup();
    await db?.destroy();
  });

  test('right password: exit 0 and the PAM codes', () => {
    const r = cli(['check', 'alice', '--worker', box.socketPath], 'wonderland\n');
    expect(r.stdout).toBe('authenticate PAM_SUCCESS (Success)\nacct_mgmt    PAM_SUCCESS (Success)\nalice: accepted\n');
    expect(r.status).toBe(0);
  });
  test('wrong password: exit 1', () => {
    const r = cli(['check', 'alice', '--worker', box.socketPath], 'nope\n');
    expect(r.stdout).toMatch(/^authenticate PAM_AUTH_ERR \(Authentication failure\)\n(module log .*\n)?reason +authenticate: AUTH_ERR \(wrong password\)\nalice: refused \(PAM_AUTH_ERR\)\n$/);
    expect(r.status).toBe(1);
  });
  test('--service: a feature the user lacks is refused, one the user has is accepted', () => {
    expect(cli(['check', 'alice', '--service', 'imap', '--worker', box.socketPath], 'wonderland\n').status).toBe(1);
    expect(cli(['check', 'bob', '--service', 'imap', '--worker', box.socketPath], 'builder\n').status).toBe(0);
  });
  test('--pam runs the whole transaction through a real stanza', () => {
    const ok = cli(['check', 'alice', '--pam', 'smtp', '--pam-dir', box.pamDir], 'wonderland\n');
    expect(ok.stdout).toContain('alice: accepted');
    expect(ok.status).toBe(0);
    const bad = cli(['check', 'alice', '--pam', 'smtp', '--pam-dir', box.pamDir], 'x\n');
    expect(bad.status).toBe(1);
  });
  test('worker not reachable: exit 1 with PAM_AUTHINFO_UNAVAIL', () => {
    const r = cli(['check', 'alice', '--worker', path.join(box.dir, 'nothing.sock')], 'wonderland\n');
    expect(r.stdout).toContain('PAM_AUTHINFO_UNAVAIL');
    expect(r.status).toBe(1);
  });
  test('bad usage: exit 2', () => {
    expect(cli(['check'], '').status).toBe(2);
    expect(cli(['check', 'alice', '--pam', 'smtp', '--service', 'imap'], '').status).toBe(2);
    expect(cli(['check', 'alice', '--pam', 'smtp', '--worker', '/x.sock'], '').status).toBe(2);
  });
});

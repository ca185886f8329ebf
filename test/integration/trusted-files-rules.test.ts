// The rules for files the worker trusts (src/config/permissions.ts), on real files, owners and
// modes. The worker's identity cases (root:pam-mapi 0640, Kopano's root:kopano 0640) run the
// loader in a child that has dropped root for another uid, gid and groups, as the worker will.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { loadConfig, parseConfig } from '../../src/stores/registry';
import { checkConfig } from '../../src/doctor/checks';
import { SystemRoot } from '../../src/system/root';

/** Ids no account has: "another user" and the groups of a worker that is not root. */
const STRANGER = 64123;
const WORKER_UID = 64124;
const WORKER_GID = 64125;
const KOPANO_GID = 64126;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-trust-'));
  fs.chmodSync(dir, 0o755);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string, mode = 0o600, owner?: { uid: number; gid: number }): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text, { mode });
  fs.chmodSync(p, mode);
  if (owner !== undefined) fs.chownSync(p, owner.uid, owner.gid);
  return p;
}

describe('the config file', () => {
  test.each([
    ['"password" = x'],
    ["'password' = x"],
    ['  "password"   =   x  '],
  ])('mode 0644 with a quoted password key (%s) is refused like a plain one', (line) => {
    const p = write('q.conf', `[store.db]\ntype = zarafa\nsocket = /run/none\n${line}\n`, 0o644);
    expect(() => loadConfig(p)).toThrow(/config file .* holds a password and is readable by group or others \(mode 0644\): refusing it; run chmod 600/);
  });

  test('a quoted key is checked for ";" and "#" like a plain one', () => {
    expect(() => parseConfig('[store]\ntype = zarafa\n"password" = se;cret\n', '/etc/pam_mapi.conf')).toThrow(/pam_mapi.conf:3: password: .*double quotes/);
  });

  test('owned by another uid, mode 0600: refused, naming the owner and the fix', () => {
    const p = write('pam_mapi.conf', '[worker]\n', 0o600, { uid: STRANGER, gid: STRANGER });
    expect(() => loadConfig(p)).toThrow(`config file ${p} is owned by uid ${STRANGER}, not by root or the worker's user: refusing it (its owner could change it); run chown root ${p}`);
  });

  test('a symbolic link to a safe file is refused', () => {
    const real = write('real.conf', '[worker]\n');
    const link = path.join(dir, 'pam_mapi.conf');
    fs.symlinkSync(real, link);
    expect(() => loadConfig(link)).toThrow(`config file ${link} is a symbolic link: refusing it`);
  });

  test('a FIFO in its place is refused at once, not waited on', () => {
    const p = path.join(dir, 'pam_mapi.conf');
    expect(spawnSync('mkfifo', [p]).status).toBe(0);
    expect(() => loadConfig(p)).toThrow(`config file ${p} is not a regular file: refusing it`);
  });

  test('in a group-writable directory: refused, naming the directory', () => {
    const p = write('etc/pam_mapi.conf', '[worker]\n');
    fs.chmodSync(path.join(dir, 'etc'), 0o775);
    expect(() => loadConfig(p)).toThrow(`config file ${p}: its directory ${dir}/etc is writable by group or others (mode 0775)`);
  });

  test('in a directory owned by another uid: refused', () => {
    const p = write('etc/pam_mapi.conf', '[worker]\n');
    fs.chownSync(path.join(dir, 'etc'), STRANGER, STRANGER);
    expect(() => loadConfig(p)).toThrow(`config file ${p}: its directory ${dir}/etc is owned by uid ${STRANGER}`);
  });

  test('under a root-owned sticky directory (such as /tmp): accepted for root\'s entries, refused for another uid\'s', () => {
    const sticky = path.join(dir, 'tmp');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    const p = write('tmp/pam_mapi.conf', '[worker]\n');
    expect(() => loadConfig(p)).not.toThrow();
    fs.mkdirSync(path.join(sticky, 'theirs'), { mode: 0o755 });
    const q = write('tmp/theirs/pam_mapi.conf', '[worker]\n');
    fs.chownSync(path.join(sticky, 'theirs'), STRANGER, STRANGER);
    expect(() => loadConfig(q)).toThrow(new RegExp(`${sticky}/theirs is owned by uid ${STRANGER} in ${sticky}, which others may write`));
  });

  test('a directory that is a symbolic link: followed and its target checked', () => {
    write('real/pam_mapi.conf', '[worker]\n');
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'etc'));
    expect(() => loadConfig(path.join(dir, 'etc/pam_mapi.conf'))).not.toThrow();
    fs.chmodSync(path.join(dir, 'real'), 0o777);
    expect(() => loadConfig(path.join(dir, 'etc/pam_mapi.conf'))).toThrow(`its directory ${dir}/real is writable by group or others (mode 0777)`);
  });

  test('the doctor shows the refusal with the command that fixes it', () => {
    const p = write('pam_mapi.conf', '[worker]\n', 0o600, { uid: STRANGER, gid: STRANGER });
    const { rows } = checkConfig(new SystemRoot('/'), p);
    expect(rows).toEqual([expect.objectContaining({ check: 'config', status: 'FAIL', fix: `chown root ${p}` })]);
  });
});

describe('password files', () => {
  test.each([
    ['zarafa', 'password_file', 'password file'],
    ['ldap', 'bind_password_file', 'bind password file'],
  ])('a %s %s that is a symbolic link is refused', (type, key, what) => {
    const real = write('secret.real', 'pw\n');
    const link = path.join(dir, 'secret');
    fs.symlinkSync(real, link);
    const extra = type === 'ldap' ? 'uri = ldaps://127.0.0.1\nbind_dn = cn=x\nbase = dc=x\n' : 'socket = /run/none\n';
    const p = write('pam_mapi.conf', `[store]\ntype = ${type}\n${extra}${key} = ${link}\n`);
    expect(() => loadConfig(p)).toThrow(`${what} ${link} is a symbolic link: refusing it`);
  });

  test('owned by another uid: refused', () => {
    const secret = write('db.secret', 'pw\n', 0o600, { uid: STRANGER, gid: STRANGER });
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nsocket = /run/none\npassword_file = ${secret}\n`);
    expect(() => loadConfig(p)).toThrow(`password file ${secret} is owned by uid ${STRANGER}`);
  });
});

describe('CA files (read by the database and LDAP libraries by their path)', () => {
  const ldap = (ca: string): string => `[store]\ntype = ldap\nuri = ldaps://127.0.0.1\nbase = dc=x\nfilter = (uid=%u)\nca_file = ${ca}\n`;
  test('owned by another uid, or in a directory another uid owns: refused (whoever could swap it could pose as the server)', () => {
    const theirs = write('ca-theirs.pem', 'x', 0o644, { uid: STRANGER, gid: STRANGER });
    expect(() => loadConfig(write('a.conf', ldap(theirs)))).toThrow(`CA file ${theirs} is owned by uid ${STRANGER}`);
    const strangersDir = path.join(dir, 'strangers');
    fs.mkdirSync(strangersDir, { mode: 0o755 });
    const inTheirDir = write('strangers/ca.pem', 'x', 0o644);
    fs.chownSync(strangersDir, STRANGER, STRANGER);
    expect(() => loadConfig(write('b.conf', ldap(inTheirDir)))).toThrow(`its directory ${strangersDir} is owned by uid ${STRANGER}`);
    // Through a link, the file it leads to is what is judged.
    const link = path.join(dir, 'ca-link.pem');
    fs.symlinkSync(theirs, link);
    expect(() => loadConfig(write('c.conf', ldap(link)))).toThrow(`(reached through the link ${link})`);
  });
  test('root\'s, through a link as /etc/ssl/certs has them: accepted', () => {
    const ca = write('ca.pem', 'x', 0o644);
    const link = path.join(dir, 'ca-link.pem');
    fs.symlinkSync(ca, link);
    expect(() => loadConfig(write('d.conf', ldap(link)))).not.toThrow();
  });
});

describe('Kopano\'s server.cfg', () => {
  test('readable by others while it holds mysql_password: refused', () => {
    const cfg = write('server.cfg', 'mysql_password = pw\n', 0o644);
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`);
    expect(() => loadConfig(p)).toThrow(`server_cfg ${cfg} holds a password and is readable by group or others (mode 0644)`);
  });

  test('a symbolic link: refused', () => {
    const real = write('server.cfg.real', 'mysql_password = pw\n', 0o640);
    const cfg = path.join(dir, 'server.cfg');
    fs.symlinkSync(real, cfg);
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`);
    expect(() => loadConfig(p)).toThrow(`server_cfg ${cfg} is a symbolic link: refusing it`);
  });
});

/** Loads `config` in a child running as WORKER_UID, primary group WORKER_GID and `groups`. */
function loadAsWorker(config: string, groups: number[]): { ok: true } | { error: string } {
  const loader = path.resolve(__dirname, '../../src/stores/registry.js');
  const script = `
    process.setgroups(${JSON.stringify(groups)});
    process.setgid(${WORKER_GID});
    process.setuid(${WORKER_UID});
    try { require(${JSON.stringify(loader)}).loadConfig(${JSON.stringify(config)}); console.log(JSON.stringify({ ok: true })); }
    catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`loader child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ok: true } | { error: string };
}

describe('as an unprivileged worker', () => {
  const root = (gid: number): { uid: number; gid: number } => ({ uid: 0, gid });

  test('a config holding a password, root:<worker group> 0640: accepted', () => {
    const p = write('pam_mapi.conf', '[store]\ntype = zarafa\nsocket = /run/none\npassword = "x"\n', 0o640, root(WORKER_GID));
    expect(loadAsWorker(p, [])).toEqual({ ok: true });
  });

  test('a password file root:<worker group> 0640 and a config owned by the worker\'s user: accepted', () => {
    const secret = write('db.secret', 'pw\n', 0o640, root(WORKER_GID));
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nsocket = /run/none\npassword_file = ${secret}\n`, 0o600, { uid: WORKER_UID, gid: WORKER_GID });
    expect(loadAsWorker(p, [])).toEqual({ ok: true });
  });

  test('a password file readable by another group the worker is in: refused (only its own group may read a secret)', () => {
    const secret = write('db.secret', 'pw\n', 0o640, root(KOPANO_GID));
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nsocket = /run/none\npassword_file = ${secret}\n`, 0o640, root(WORKER_GID));
    expect(loadAsWorker(p, [KOPANO_GID])).toEqual({ error: expect.stringContaining(`password file ${secret} holds a password and is readable by group or others (mode 0640), and its group gid ${KOPANO_GID} is not the worker's`) });
  });

  test('Kopano\'s server.cfg root:kopano 0640 holding mysql_password, the worker in group kopano: accepted', () => {
    const cfg = write('server.cfg', 'user_plugin = db\nmysql_socket = /run/none\nmysql_password = pw\n', 0o640, root(KOPANO_GID));
    const p = write('pam_mapi.conf', `[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`, 0o640, root(WORKER_GID));
    expect(loadAsWorker(p, [KOPANO_GID])).toEqual({ ok: true });
  });

  test('a config owned by another uid: refused as it is for root', () => {
    const p = write('pam_mapi.conf', '[worker]\n', 0o644, { uid: STRANGER, gid: STRANGER });
    expect(loadAsWorker(p, [])).toEqual({ error: expect.stringContaining(`is owned by uid ${STRANGER}`) });
  });
});

// Files the worker trusts, through the real worker and module: a config or users file that
// another uid owns or may replace, or that is a symbolic link, stops the worker at start; a users
// file never answers from older contents than its own, so a removed user is refused at the next
// check whatever else is wrong with the file.
import fs from 'fs';
import path from 'path';
import { Sandbox, SandboxUser, usersFileLine, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

/** A uid and gid no account has: "another user". */
const STRANGER = 64123;
const ALICE: SandboxUser = { login: 'alice', password: 'wonderland' };
const BOB: SandboxUser = { login: 'bob', password: 'builder' };
const MALLORY: SandboxUser = { login: 'mallory', password: 'intruder' };
/** The file store checks its file at most once a second. */
const RECHECK_WAIT_MS = 1100;

let box: Sandbox;
beforeEach(() => { box = Sandbox.create(); });
afterEach(async () => { await box.cleanup(); });

const auth = async (login: string, password: string): Promise<string> => (await pamRun(box, 'smtp', login, [password])).auth ?? 'none';
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A worker on a users file with alice and bob, both served. */
async function serving(): Promise<{ users: string; worker: WorkerProcess }> {
  const users = box.writeUsers([ALICE, BOB]);
  const config = box.writeConfig(`[store]\npath = ${users}\n`);
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  const worker = await box.startWorker(config);
  expect(await auth('alice', 'wonderland')).toBe('PAM_SUCCESS');
  expect(await auth('bob', 'builder')).toBe('PAM_SUCCESS');
  // The next edit must land in a later check than the one the logins above made.
  await pause(RECHECK_WAIT_MS);
  return { users, worker };
}

describe('at start', () => {
  test('a config owned by another uid (mode 0600) is refused, naming the owner and the fix', async () => {
    const users = box.writeUsers([ALICE]);
    const config = box.writeConfig(`[store]\npath = ${users}\n`);
    fs.chownSync(config, STRANGER, STRANGER);
    await expect(box.startWorker(config)).rejects.toThrow(new RegExp(`config file ${config} is owned by uid ${STRANGER}, not by root or the worker's user: refusing it.*run chown root ${config}`));
  });

  test('a users file owned by another uid (mode 0600) is refused: that uid cannot add a user', async () => {
    const users = box.writeUsers([ALICE]);
    fs.chownSync(users, STRANGER, STRANGER);
    fs.appendFileSync(users, `${usersFileLine(MALLORY)}\n`);
    const config = box.writeConfig(`[store]\npath = ${users}\n`);
    await expect(box.startWorker(config)).rejects.toThrow(new RegExp(`users file ${users} is owned by uid ${STRANGER}`));
  });

  test('a config that is a symbolic link is refused, though the file it names is safe', async () => {
    const users = box.writeUsers([ALICE]);
    const real = box.writeConfig(`[store]\npath = ${users}\n`);
    const link = path.join(box.dir, 'link.conf');
    fs.symlinkSync(real, link);
    await expect(box.startWorker(link)).rejects.toThrow(new RegExp(`config file ${link} is a symbolic link: refusing it`));
  });

  test('a users file that is a symbolic link is refused', async () => {
    const real = box.writeUsers([ALICE], 'users.real');
    const link = path.join(box.dir, 'users');
    fs.symlinkSync(real, link);
    const config = box.writeConfig(`[store]\npath = ${link}\n`);
    await expect(box.startWorker(config)).rejects.toThrow(new RegExp(`users file ${link} is a symbolic link: refusing it`));
  });

  test('a users file in a group-writable directory is refused: the group could replace it', async () => {
    const dir = path.join(box.dir, 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o775);
    const users = path.join(dir, 'users');
    fs.writeFileSync(users, `${usersFileLine(ALICE)}\n`, { mode: 0o600 });
    const config = box.writeConfig(`[store]\npath = ${users}\n`);
    await expect(box.startWorker(config)).rejects.toThrow(new RegExp(`users file ${users}: its directory ${dir} is writable by group or others \\(mode 0775\\).*run chmod go-w ${dir}`));
  });
});

describe('a revocation is never undone by older contents', () => {
  test('alice removed while the same edit leaves a wrong line for carol: alice unknown, bob served, carol unavailable', async () => {
    const { users, worker } = await serving();
    fs.writeFileSync(users, `${usersFileLine(BOB)}\ncarol:not-a-hash\n`);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('alice', 'wonderland')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('bob', 'builder')).toBe('PAM_SUCCESS');
    expect(await auth('carol', 'anything')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(worker.output).toMatch(new RegExp(`store.reload_failed .*${users}:2: the password is not a Zarafa salted MD5 value`));
  });

  test('alice removed in a file written as 0664: nobody is served, with the reason, until the mode is safe again', async () => {
    const { users, worker } = await serving();
    fs.writeFileSync(users, `${usersFileLine(BOB)}\n`);
    fs.chmodSync(users, 0o664);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('bob', 'builder')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(worker.output).toMatch(new RegExp(`users file ${users} is writable by group or others \\(mode 0664\\)`));
    fs.chmodSync(users, 0o600);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('alice', 'wonderland')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('bob', 'builder')).toBe('PAM_SUCCESS');
  });

  test('a chmod alone (no new modification time) is noticed', async () => {
    const { users } = await serving();
    fs.chmodSync(users, 0o666);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });

  test('a users file chowned to another uid, who then adds a user: nobody is served', async () => {
    const { users, worker } = await serving();
    fs.chownSync(users, STRANGER, STRANGER);
    fs.appendFileSync(users, `${usersFileLine(MALLORY)}\n`);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('mallory', 'intruder')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(worker.output).toMatch(new RegExp(`users file ${users} is owned by uid ${STRANGER}`));
  });

  test('a users file replaced by a symbolic link: nobody is served', async () => {
    const { users } = await serving();
    const other = box.file('users.other', `${usersFileLine(MALLORY)}\n`);
    fs.rmSync(users);
    fs.symlinkSync(other, users);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('mallory', 'intruder')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });

  test('a users file removed: nobody is served from what it said before', async () => {
    const { users } = await serving();
    fs.rmSync(users);
    await pause(RECHECK_WAIT_MS);
    expect(await auth('alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
});

// The worker and its config file, for real: a broken config stops it with a clear message; a
// reload (SIGHUP) takes a good new config and refuses a broken one, keeping the old serving.
import fs from 'fs';
import { Sandbox } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

let box: Sandbox;
beforeEach(() => { box = Sandbox.create(); });
afterEach(async () => { await box.cleanup(); });

test('a broken config: the worker says why (file, section, key) and exits', async () => {
  const config = box.writeConfig('[store]\ntype = file\npaht = /x\n');
  await expect(box.startWorker(config)).rejects.toThrow(new RegExp(`config.invalid .*${box.dir}/pam_mapi.conf: \\[store\\] paht: unknown key`));
});

test('a config with a password readable by others: the worker refuses it', async () => {
  const config = box.writeConfig('[store]\ntype = file\n', 'allowed_uids = 0\n');
  fs.appendFileSync(config, '[store.x]\npassword = "x"\n');
  fs.chmodSync(config, 0o644);
  await expect(box.startWorker(config)).rejects.toThrow(/holds a password and is readable by group or others/);
});

test('SIGHUP: a good config is taken, a broken one refused while the old keeps serving', async () => {
  box.writeUsers([{ login: 'alice', password: 'wonderland' }], 'users-a');
  box.writeUsers([{ login: 'bob', password: 'builder' }], 'users-b');
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users-a\n`);
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  const worker = await box.startWorker(config);
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');

  box.writeConfig(`[store]\npath = ${box.dir}/users-b\n`);
  worker.signal('SIGHUP');
  await waitFor(() => /reloaded/.test(worker.output));
  expect((await pamRun(box, 'smtp', 'bob', ['builder'])).auth).toBe('PAM_SUCCESS');
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_USER_UNKNOWN');

  box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users-a\nbogus = 1\n`);
  worker.signal('SIGHUP');
  await waitFor(() => /reload.refused/.test(worker.output));
  expect(worker.output).toMatch(/reload.refused .*\[store\] bogus: unknown key/);
  expect((await pamRun(box, 'smtp', 'bob', ['builder'])).auth).toBe('PAM_SUCCESS');
});

test('an edited users file takes effect without a restart', async () => {
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`);
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  await box.startWorker(config);
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  await new Promise((r) => setTimeout(r, 1100));
  box.writeUsers([{ login: 'alice', password: 'changed' }]);
  await new Promise((r) => setTimeout(r, 1100));
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_AUTH_ERR');
  expect((await pamRun(box, 'smtp', 'alice', ['changed'])).auth).toBe('PAM_SUCCESS');
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

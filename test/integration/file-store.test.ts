// The file store (a users file) through real libpam, the built module and a real worker: the
// store contract (test/helpers/store-contract.ts). It has no server, so no "down" rows; what
// else only it does (reloading the file) is in outcomes.test.ts and worker-config.test.ts.
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { CONTRACT_USERS, contractServices, storeContract } from '../helpers/store-contract';

let box: Sandbox;
let worker: WorkerProcess;

beforeAll(async () => {
  box = Sandbox.create();
  const users = box.writeUsers(CONTRACT_USERS.map((u) => ({ login: u.login, password: u.password, enabled: u.enabled, disabled: u.disabled, locked: u.active === false })));
  const config = box.writeConfig(`[store]\ntype = file\npath = ${users}\n\n[store.nodefaults]\ntype = file\npath = ${users}\ndisabled_features =\n`);
  contractServices(box);
  worker = await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
});

storeContract(() => ({ box, worker, secrets: [] }), { server: false, secretFile: false });

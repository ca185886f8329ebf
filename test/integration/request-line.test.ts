// The worker's `request` line: one per PAM transaction. Through real libpam, the built
// pam_mapi.so and a real worker: an authentication and the account request on its kept
// connection make one line; a failure, or an authentication whose account request never
// comes, one line each.
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

const USERS = [
  { login: 'erin', password: 'ever-green' },
  { login: 'frank', password: 'furter-1' },
  { login: 'gina', password: 'gin-and-tonic' },
  { login: 'hank', password: 'hanky-panky' },
];

function lines(output: string, user: string): string[] {
  return output.split('\n').filter((l) => / info request /.test(l) && l.includes(` user=${user} `));
}

/** The worker writes its line just after the answer: wait for n lines, then a little longer
 * to see that no more come. */
async function settled(output: () => string, user: string, n: number): Promise<string[]> {
  for (const until = Date.now() + 5000; lines(output(), user).length < n && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200));
  return lines(output(), user);
}

describe('one request line per PAM transaction', () => {
  let box: Sandbox;
  let worker: WorkerProcess;

  beforeAll(async () => {
    box = Sandbox.create();
    box.writeUsers(USERS);
    const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\n`);
    box.service('smtp', [`auth required {module} ${box.workerArg}`, `account required {module} ${box.workerArg}`]);
    box.service('acct-imap', [`auth required {module} ${box.workerArg}`, `account required {module} service=imap ${box.workerArg}`]);
    worker = await box.startWorker(config);
  });

  afterAll(async () => {
    await box.cleanup();
  });

  test('authentication and account on one connection: one line with both answers', async () => {
    const r = await pamRun(box, 'smtp', 'erin', ['ever-green'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const got = await settled(() => worker.output, 'erin', 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/ request op=authenticate service=smtp user=erin .*store=default result=PAM_SUCCESS reason=accepted reused=yes ms=[0-9.]+ account=PAM_SUCCESS account_reason=accepted account_ms=[0-9.]+$/);
  });

  test("the account line's own refusal is on the same line", async () => {
    const r = await pamRun(box, 'acct-imap', 'frank', ['furter-1'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_PERM_DENIED']);
    const got = await settled(() => worker.output, 'frank', 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/ result=PAM_SUCCESS .* account=PAM_PERM_DENIED account_reason="none of the features imap is enabled"/);
  });

  test('a wrong password: one line, at once', async () => {
    const r = await pamRun(box, 'smtp', 'gina', ['not-it'], { account: true });
    expect(r.auth).toBe('PAM_AUTH_ERR');
    const got = await settled(() => worker.output, 'gina', 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/ request op=authenticate .*result=PAM_AUTH_ERR reason="wrong password" ms=[0-9.]+$/);
  });

  test('no account request (pam_end after pam_authenticate): the authentication\'s line alone', async () => {
    const r = await pamRun(box, 'smtp', 'hank', ['hanky-panky']);
    expect(r.auth).toBe('PAM_SUCCESS');
    const got = await settled(() => worker.output, 'hank', 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/ request op=authenticate .*result=PAM_SUCCESS reason=accepted ms=[0-9.]+$/);
  });
});

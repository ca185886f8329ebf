// The contract's outcome table, through real libpam, the built pam_mapi.so and a real worker
// process with a file store. Each row is checked at the PAM result and, where the contract
// says something is logged, at the module's syslog line.
import fs from 'fs';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const USERS = [
  { login: 'alice', password: 'wonderland' },
  { login: 'bob', password: 'builder', enabled: ['imap'] },
  { login: 'carol', password: 'christmas', enabled: ['pop3'] },
  { login: 'dave', password: 'locked-out', enabled: ['imap'], locked: true },
  { login: 'erin', password: 'no-mobile', disabled: ['mobile'] },
  { login: 'jürgen', password: 'pässwörd€ ünd 漢字' },
];

let box: Sandbox;
let worker: WorkerProcess;

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers(USERS);
  const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\ndisabled_features = imap pop3\n\n[store.other]\ntype = file\npath = ${box.dir}/users\ndisabled_features =\n`);
  const w = box.workerArg;
  box.service('smtp', [`auth required {module} try_first_pass ${w}`, `account required {module} ${w}`]);
  box.service('imap', [`auth required {module} try_first_pass service=imap ${w}`, `account required {module} service=imap ${w}`]);
  box.service('popimap', [`auth required {module} try_first_pass service=pop3|imap ${w}`]);
  box.service('popimap-comma', [`auth required {module} try_first_pass service=pop3,imap ${w}`]);
  box.service('mobile', [`auth required {module} service=mobile ${w}`, `account required {module} service=mobile ${w}`]);
  box.service('prompt', [`auth required {module} ${w}`]);
  box.service('quiet', [`auth required {module} quiet ${w}`]);
  box.service('nodelay', [`auth required {module} nodelay ${w}`]);
  box.service('usefirst', [`auth required {module} use_first_pass ${w}`]);
  box.service('unix-first', ['auth optional pam_unix.so', `auth required {module} try_first_pass ${w}`]);
  box.service('handoff', [`auth required {module} ${w}`, `auth required {module} use_first_pass store=other ${w}`]);
  box.service('unknown-arg', [`auth required {module} try_first_pass frobnicate ${w}`]);
  box.service('legacy', [`auth required {module} try_first_pass socket=http://localhost:236/zarafa debug ${w}`]);
  box.service('other-store', [`auth required {module} store=other service=imap ${w}`]);
  box.service('missing-store', [`auth required {module} store=nosuch ${w}`, `account required {module} store=nosuch ${w}`]);
  box.service('debug', [`auth required {module} debug ${w}`]);
  box.service('typo-feature', [`auth required {module} service=imapp ${w}`, `account required {module} service=imapp ${w}`]);
  box.service('empty-feature', [`auth required {module} service= ${w}`]);
  box.service('bad-store-name', [`auth required {module} store=../x ${w}`]);
  box.service('many-args', [`auth required {module} ${w} ${Array.from({ length: 40 }, () => "quiet").join(' ')}`]);
  box.service('many-unknown', [`auth required {module} ${w} ${Array.from({ length: 20 }, (_, i) => `bogus${i}`).join(' ')}`]);
  worker = await box.startWorker(config);
});

afterAll(async () => {
  await box.cleanup();
});

describe('right password, account active, features on: PAM_SUCCESS', () => {
  test('smtp stanza, auth and account', async () => {
    const r = await pamRun(box, 'smtp', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(r.raw.prompts).toEqual([{ style: 'echo_off', message: 'Password: ' }]);
  });
  test('login names match without regard to case', async () => {
    expect((await pamRun(box, 'smtp', 'ALICE', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
  });
  test('UTF-8 user name and password', async () => {
    expect((await pamRun(box, 'smtp', 'jürgen', ['pässwörd€ ünd 漢字'])).auth).toBe('PAM_SUCCESS');
    expect((await pamRun(box, 'smtp', 'jürgen', ['pässwörd€ ünd 漢'])).auth).toBe('PAM_AUTH_ERR');
  });
  test('service=imap for a user who enabled imap', async () => {
    const r = await pamRun(box, 'imap', 'bob', ['builder'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  });
  test('service=pop3|imap and service=pop3,imap are a logical OR', async () => {
    expect((await pamRun(box, 'popimap', 'carol', ['christmas'])).auth).toBe('PAM_SUCCESS');
    expect((await pamRun(box, 'popimap', 'bob', ['builder'])).auth).toBe('PAM_SUCCESS');
    expect((await pamRun(box, 'popimap-comma', 'carol', ['christmas'])).auth).toBe('PAM_SUCCESS');
    expect((await pamRun(box, 'popimap', 'alice', ['wonderland'])).auth).toBe('PAM_PERM_DENIED');
  });
  test('store= picks another store with its own feature defaults', async () => {
    // [store.other] has no default-disabled features, so imap is on for alice there.
    expect((await pamRun(box, 'other-store', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  });
});

describe('ordinary failures', () => {
  test('wrong password: PAM_AUTH_ERR and the pam_unix-format line', async () => {
    const mark = syslogMark();
    const r = await pamRun(box, 'smtp', 'alice', ['wrong'], { rhost: '203.0.113.50' });
    expect(r.auth).toBe('PAM_AUTH_ERR');
    const lines = moduleLines(await syslogSince(mark), 'rhost=203.0.113.50');
    expect(lines).toEqual([`pam_mapi(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.50 user=alice`]);
  });
  test('user not in the store: PAM_USER_UNKNOWN, auth and account', async () => {
    const r = await pamRun(box, 'smtp', 'mallory', ['guess']);
    expect(r.auth).toBe('PAM_USER_UNKNOWN');
    expect((await pamRun(box, 'smtp', 'mallory', [], { accountOnly: true })).account).toBe('PAM_USER_UNKNOWN');
  });
  test('right password, account locked: PAM_PERM_DENIED; wrong password on it: PAM_AUTH_ERR', async () => {
    expect((await pamRun(box, 'smtp', 'dave', ['locked-out'])).auth).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'smtp', 'dave', ['nope'])).auth).toBe('PAM_AUTH_ERR');
    expect((await pamRun(box, 'smtp', 'dave', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
  });
  test('service= feature off by default or disabled by the user: PAM_PERM_DENIED, auth and account', async () => {
    expect((await pamRun(box, 'imap', 'alice', ['wonderland'])).auth).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'imap', 'alice', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'mobile', 'erin', ['no-mobile'])).auth).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'mobile', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
  });
  test('quiet: no failure line; the default: one', async () => {
    const mark = syslogMark();
    expect((await pamRun(box, 'quiet', 'alice', ['wrong'], { rhost: '203.0.113.51' })).auth).toBe('PAM_AUTH_ERR');
    expect((await pamRun(box, 'quiet', 'nobody-here', ['x'], { rhost: '203.0.113.51' })).auth).toBe('PAM_USER_UNKNOWN');
    expect((await pamRun(box, 'prompt', 'alice', ['wrong'], { rhost: '203.0.113.52' })).auth).toBe('PAM_AUTH_ERR');
    const lines = await syslogSince(mark);
    expect(moduleLines(lines, 'rhost=203.0.113.51')).toEqual([]);
    expect(moduleLines(lines, 'rhost=203.0.113.52')).toHaveLength(1);
  });
});

describe('bad input, refused without asking the store', () => {
  test('empty password: PAM_AUTH_ERR', async () => {
    expect((await pamRun(box, 'smtp', 'alice', [''])).auth).toBe('PAM_AUTH_ERR');
  });
  test('over-long password (4097 bytes): PAM_AUTH_ERR; 4096 bytes is checked normally', async () => {
    expect((await pamRun(box, 'smtp', 'alice', ['a'.repeat(4097)])).auth).toBe('PAM_AUTH_ERR');
    expect((await pamRun(box, 'smtp', 'alice', ['a'.repeat(4096)])).auth).toBe('PAM_AUTH_ERR');
    expect((await pamRun(box, 'smtp', 'alice', ['wonderland' + 'x'.repeat(5000)])).auth).toBe('PAM_AUTH_ERR');
  });
  test.each([
    ['empty', ''],
    ['over 256 bytes', 'a'.repeat(257)],
    ['a newline', 'alice\nroot'],
    ['a control character', 'ali\u0001ce'],
    ['a C1 control', 'ali\u0085ce'],
  ])('user name with %s: PAM_USER_UNKNOWN for auth and account', async (_what, name) => {
    const r = await pamRun(box, 'smtp', name, ['wonderland']);
    expect(r.auth).toBe('PAM_USER_UNKNOWN');
    // libpam prompts (pam_get_authtok) before the worker is asked, as for any name; the
    // worker refuses the name without looking at the password or asking the store.
    expect(r.raw.prompts).toHaveLength(1);
    expect((await pamRun(box, 'smtp', name, [], { accountOnly: true })).account).toBe('PAM_USER_UNKNOWN');
  });
  test('a hostile user name cannot forge log fields', async () => {
    const mark = syslogMark();
    await pamRun(box, 'smtp', 'x\nFAKE: rhost=10.9.9.9', ['pw'], { rhost: '203.0.113.53' });
    const lines = moduleLines(await syslogSince(mark), 'rhost=203.0.113.53');
    expect(lines).toEqual(['pam_mapi(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.53 user=x\\x0aFAKE:\\x20rhost\\x3d10.9.9.9']);
  });
});

describe('passwords from earlier modules', () => {
  test('try_first_pass after a module that prompted: exactly one prompt', async () => {
    // pam_unix (optional) prompts and fails for a non-system user; pam_mapi uses its token.
    const r = await pamRun(box, 'unix-first', 'alice', ['wonderland']);
    expect(r.auth).toBe('PAM_SUCCESS');
    expect(r.raw.prompts).toHaveLength(1);
  });
  test('try_first_pass with a wrong first pass does not prompt again', async () => {
    const r = await pamRun(box, 'unix-first', 'alice', ['wrong', 'wonderland']);
    expect(r.auth).toBe('PAM_AUTH_ERR');
    expect(r.raw.prompts).toHaveLength(1);
  });
  test('use_first_pass with no earlier token: PAM_AUTH_ERR, no prompt', async () => {
    const r = await pamRun(box, 'usefirst', 'alice', ['wonderland']);
    expect(r.auth).toBe('PAM_AUTH_ERR');
    expect(r.raw.prompts).toEqual([]);
  });
  test('a prompted password is handed on as PAM_AUTHTOK to a later use_first_pass module', async () => {
    const ok = await pamRun(box, 'handoff', 'alice', ['wonderland']);
    expect(ok.auth).toBe('PAM_SUCCESS');
    expect(ok.raw.prompts).toHaveLength(1);
    // The second module sees the same (wrong) token: it fails too, and nobody prompts again.
    const bad = await pamRun(box, 'handoff', 'alice', ['wrong', 'wonderland']);
    expect(bad.auth).toBe('PAM_AUTH_ERR');
    expect(bad.raw.prompts).toHaveLength(1);
  });
});

describe('conversation', () => {
  test('conversation fails (no answer): PAM_CONV_ERR', async () => {
    expect((await pamRun(box, 'prompt', 'alice', [])).auth).toBe('PAM_CONV_ERR');
  });
  test('no conversation function: PAM_CONV_ERR', async () => {
    expect((await pamRun(box, 'prompt', 'alice', [], { conversation: 'none' })).auth).toBe('PAM_CONV_ERR');
  });
});

describe('arguments', () => {
  test('an unknown argument is logged at LOG_ERR and ignored', async () => {
    const mark = syslogMark();
    expect((await pamRun(box, 'unknown-arg', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
    const lines = moduleLines(await syslogSince(mark), 'frobnicate');
    expect(lines).toEqual(['pam_mapi(unknown-arg:auth): unknown option ignored: frobnicate']);
    // LOG_AUTHPRIV (10<<3) | LOG_ERR (3) = <83>
    expect((await syslogSince(mark, 0)).find((l) => l.includes('frobnicate'))).toMatch(/^<83>/);
  });
  test('legacy socket= loads unchanged and is noted under debug', async () => {
    const mark = syslogMark();
    expect((await pamRun(box, 'legacy', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
    expect(moduleLines(await syslogSince(mark), 'socket=http://localhost:236/zarafa', { debug: true })).toHaveLength(1);
  });
  test('the fail delay is asked for by default and not with nodelay', async () => {
    const slow = await pamRun(box, 'prompt', 'alice', ['wrong']);
    expect(slow.raw.failDelay?.usec).toBeGreaterThanOrEqual(1_000_000); // libpam randomises the 2 s
    const fast = await pamRun(box, 'nodelay', 'alice', ['wrong']);
    expect(fast.auth).toBe('PAM_AUTH_ERR');
    expect(fast.raw.failDelay?.usec ?? 0).toBe(0);
  });
  test('debug logs each step but never the password or its length', async () => {
    const mark = syslogMark();
    const secret = 'S3cr3t-Debug-Pw';
    await pamRun(box, 'debug', 'alice', [secret]);
    await pamRun(box, 'debug', 'alice', ['wonderland']);
    const all = await syslogSince(mark);
    const debugLines = moduleLines(all, 'pam_mapi(debug:auth)', { debug: true });
    expect(debugLines.some((l) => l.includes('prompting for the password'))).toBe(true);
    expect(debugLines.some((l) => l.includes('SUCCESS'))).toBe(true);
    for (const l of [...all, worker.output]) {
      expect(l).not.toContain(secret);
      expect(l).not.toContain('wonderland');
      expect(l).not.toMatch(/length|\b15\b chars/);
    }
  });
});

describe('errors end in PAM_AUTHINFO_UNAVAIL, never success', () => {
  test('store= naming no config section: PAM_AUTHINFO_UNAVAIL and a LOG_ERR line, auth and account', async () => {
    const mark = syslogMark();
    expect((await pamRun(box, 'missing-store', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    expect((await pamRun(box, 'missing-store', 'alice', [], { accountOnly: true })).account).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), 'store=nosuch')).toHaveLength(2);
  });

  test.each([
    ['typo-feature', /service=imapp: unknown feature imapp/],
    ['empty-feature', /service= names no feature/],
    ['bad-store-name', /store=..\/x is not a store name/],
    ['many-args', /more than 32 module arguments/],
  ])('a %s line fails closed: PAM_AUTHINFO_UNAVAIL with the reason at LOG_ERR', async (service, reason) => {
    const mark = syslogMark();
    expect((await pamRun(box, service, 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    expect((await pamRun(box, service, 'bob', ['builder'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    const lines = moduleLines(await syslogSince(mark), `pam_mapi(${service}:auth)`);
    expect(lines.some((l) => reason.test(l))).toBe(true);
  });

  test('twenty unknown arguments: one LOG_ERR line for them, and the failure line still written', async () => {
    const mark = syslogMark();
    expect((await pamRun(box, 'many-unknown', 'alice', ['wrong'], { rhost: '203.0.113.60' })).auth).toBe('PAM_AUTH_ERR');
    const lines = moduleLines(await syslogSince(mark), 'pam_mapi(many-unknown:auth)');
    expect(lines.filter((l) => l.includes('unknown option ignored: bogus0 bogus1'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('authentication failure;') && l.includes('rhost=203.0.113.60'))).toHaveLength(1);
  });

  test('users file turned unreadable at start-up of a second worker: it refuses to start, the module answers PAM_AUTHINFO_UNAVAIL', async () => {
    const box2 = Sandbox.create();
    try {
      const config = box2.writeConfig(`[store]\ntype = file\npath = ${box2.dir}/missing-users\n`);
      box2.service('smtp', [`auth required {module} ${box2.workerArg}`]);
      await expect(box2.startWorker(config)).rejects.toThrow(/missing-users/);
      expect((await pamRun(box2, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      await box2.cleanup();
    }
  });

  test('worker stopped: PAM_AUTHINFO_UNAVAIL with the cause logged, even with quiet', async () => {
    const box2 = Sandbox.create();
    try {
      box2.writeUsers(USERS);
      const config = box2.writeConfig(`[store]\npath = ${box2.dir}/users\n`);
      box2.service('smtp', [`auth required {module} quiet try_first_pass ${box2.workerArg}`, `account required {module} ${box2.workerArg}`]);
      const w2 = await box2.startWorker(config);
      expect((await pamRun(box2, 'smtp', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
      await w2.stop();
      expect(fs.existsSync(box2.socketPath)).toBe(false);
      const mark = syslogMark();
      const r = await pamRun(box2, 'smtp', 'alice', ['wonderland']);
      expect(r.auth).toBe('PAM_AUTHINFO_UNAVAIL');
      expect((await pamRun(box2, 'smtp', 'alice', [], { accountOnly: true })).account).toBe('PAM_AUTHINFO_UNAVAIL');
      const lines = moduleLines(await syslogSince(mark), box2.socketPath);
      expect(lines[0]).toMatch(/cannot reach the worker at .*: No such file or directory/);
    } finally {
      await box2.cleanup();
    }
  });
});

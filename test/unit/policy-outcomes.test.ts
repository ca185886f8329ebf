// The contract's outcome table (interface.md, "What each outcome returns", and the module
// arguments), row by row, against decide() itself: a fake libpam and fake stores, no root,
// no libpam, no server. The same rows run for real, through libpam, the built module and a
// worker, in test/integration/outcomes.test.ts.
import { ModulePassword, PamRequest } from '../../src/protocol/messages';
import { sameLogin } from '../../src/stores/login';
import { AccountState, Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../../src/stores/store';
import { decide, EarlierAuth, FAIL_DELAY_USEC, Outcome, PolicyContext } from '../../src/worker/policy';

interface FakeUser {
  password: string;
  state?: AccountState;
  enabled?: string[];
  disabled?: string[];
}

/** A store that answers from a table, or fails the way a real one does. */
class FakeStore implements Store {
  readonly type = 'fake';
  readonly asked: string[] = [];
  /** What it does when asked: answer, throw as a store down does, or never answer. */
  mode: 'answer' | 'down' | 'hang' = 'answer';

  constructor(
    private readonly users: Record<string, FakeUser>,
    readonly defaultDisabledFeatures: readonly string[] = ['imap', 'pop3'],
  ) {}

  private find(login: string): StoreUser | undefined {
    const key = Object.keys(this.users).find((k) => sameLogin(k, login));
    if (key === undefined) return undefined;
    const u = this.users[key];
    return { login: key, state: u.state ?? 'active', features: { enabled: u.enabled ?? [], disabled: u.disabled ?? [] } };
  }

  private async act(what: string, signal: AbortSignal): Promise<void> {
    this.asked.push(what);
    if (this.mode === 'down') throw new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:3306');
    if (this.mode === 'hang') await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    await this.act(`verify ${login}`, signal);
    const user = this.find(login);
    if (user === undefined) return { found: false };
    return { found: true, passwordOk: password.equals(Buffer.from(this.users[user.login].password)), user };
  }

  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    await this.act(`lookup ${login}`, signal);
    const user = this.find(login);
    return user === undefined ? { found: false } : { found: true, user };
  }

  async close(): Promise<void> {}
}

/** What the module sends with an authentication request: libpam's pam_get_authtok() in the
 * module, given PAM_AUTHTOK from an earlier module (or none) and the application's answer to a
 * prompt (null: the conversation fails). What libpam did is recorded. */
class FakePam {
  readonly calls: string[] = [];
  readonly handedOut: Buffer[] = [];

  constructor(
    private readonly token: string | null,
    private readonly answer: string | null,
  ) {}

  password(args: string[]): ModulePassword {
    if (this.token !== null) return this.secret('earlier', this.token);
    if (args.includes('use_first_pass')) {
      this.calls.push('none');
      return { kind: 'none' };
    }
    if (this.answer === null) {
      this.calls.push('conv_failed');
      return { kind: 'conv_failed' };
    }
    return this.secret('prompt', this.answer);
  }

  private secret(from: 'earlier' | 'prompt', v: string): ModulePassword {
    this.calls.push(from);
    const b = Buffer.from(v);
    this.handedOut.push(b);
    return { kind: 'ok', from, secret: b };
  }
}

const USERS: Record<string, FakeUser> = {
  alice: { password: 'wonderland' },
  bob: { password: 'builder', enabled: ['imap'] },
  carol: { password: 'christmas', enabled: ['pop3'], disabled: ['imap'] },
  dave: { password: 'locked-out', state: 'inactive', enabled: ['imap'] },
  erin: { password: 'no-mobile', disabled: ['mobile'] },
  fred: { password: 'too-late', state: 'expired' },
  'jürgen': { password: 'pässwörd€ ünd 漢字' },
};

let main: FakeStore;
let other: FakeStore;

function context(extra: Partial<PolicyContext> = {}): PolicyContext {
  return { stores: new Map<string, Store>([['', main], ['other', other]]), storeTimeoutMs: 1000, configFile: '/etc/pam_mapi.conf', accountReuseMs: 5000, ...extra };
}

beforeEach(() => {
  main = new FakeStore(USERS);
  // [store.other]: the same users, no feature off by default.
  other = new FakeStore(USERS, []);
});

function request(op: 'authenticate' | 'account', user: string | Buffer | null, args: string[], extra: Partial<PamRequest> = {}): PamRequest {
  return {
    op, service: 'smtp', user: typeof user === 'string' ? Buffer.from(user) : user,
    rhost: '203.0.113.50', ruser: '', tty: '', logname: '', uid: 0, euid: 0, args, argsTruncated: false, password: null, ...extra,
  };
}

interface Run {
  outcome: Outcome;
  pam: FakePam;
}

/** One authentication: the password is what the application answers to the prompt (the token
 * of an earlier module with { token }). */
async function auth(user: string | Buffer | null, password: string | null, args: string[] = ['try_first_pass'], opts: { token?: string | null; ctx?: PolicyContext } = {}): Promise<Run> {
  const pam = new FakePam(opts.token ?? null, password);
  const outcome = await decide(request('authenticate', user, args, { password: pam.password(args) }), opts.ctx ?? context());
  // The policy wipes every password it was given, whatever the outcome.
  for (const b of pam.handedOut) expect(b.every((x) => x === 0)).toBe(true);
  return { outcome, pam };
}

async function account(user: string | Buffer | null, args: string[] = [], ctx = context(), earlier?: EarlierAuth): Promise<Outcome> {
  return decide(request('account', user, args), ctx, earlier);
}

const result = async (p: Promise<Run>): Promise<string> => (await p).outcome.result;
const texts = (o: Outcome, level?: string): string[] => o.logs.filter((l) => level === undefined || l.level === level).map((l) => l.text);

describe('right password, account active, feature(s) on: SUCCESS', () => {
  test('auth and account', async () => {
    const { outcome, pam } = await auth('alice', 'wonderland', []);
    expect(outcome).toMatchObject({ result: 'SUCCESS', delayUsec: FAIL_DELAY_USEC, logs: [], store: 'default' });
    expect(pam.calls).toEqual(['prompt']);
    expect((await account('alice')).result).toBe('SUCCESS');
  });
  test('login names without regard to ASCII case; UTF-8 names and passwords', async () => {
    expect(await result(auth('ALICE', 'wonderland'))).toBe('SUCCESS');
    expect((await account('Alice')).result).toBe('SUCCESS');
    expect(await result(auth('jürgen', 'pässwörd€ ünd 漢字'))).toBe('SUCCESS');
    expect(await result(auth('jürgen', 'pässwörd€ ünd 漢'))).toBe('AUTH_ERR');
  });
  test('service= with a feature the user enabled, and a list as a logical OR (| or ,)', async () => {
    expect(await result(auth('bob', 'builder', ['service=imap']))).toBe('SUCCESS');
    expect((await account('bob', ['service=imap'])).result).toBe('SUCCESS');
    expect(await result(auth('carol', 'christmas', ['service=pop3|imap']))).toBe('SUCCESS');
    expect(await result(auth('carol', 'christmas', ['service=pop3,imap']))).toBe('SUCCESS');
    expect(await result(auth('bob', 'builder', ['service=pop3|imap']))).toBe('SUCCESS');
    expect(await result(auth('alice', 'wonderland', ['service=mobile']))).toBe('SUCCESS');
  });
  test('store=NAME uses [store.NAME] with its own feature defaults', async () => {
    const { outcome } = await auth('alice', 'wonderland', ['store=other', 'service=imap']);
    expect(outcome).toMatchObject({ result: 'SUCCESS', store: 'other' });
    expect(other.asked).toEqual(['verify alice']);
    expect(main.asked).toEqual([]);
    expect(await result(auth('alice', 'wonderland', ['store=default']))).toBe('SUCCESS');
    expect(main.asked).toEqual(['verify alice']);
  });
});

describe('wrong password: AUTH_ERR', () => {
  test('with the failure line in pam_unix\'s format, at NOTICE', async () => {
    const { outcome } = await auth('alice', 'Wonderland');
    expect(outcome.result).toBe('AUTH_ERR');
    expect(outcome.logs).toEqual([{ level: 'NOTICE', text: 'authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.50 user=alice' }]);
  });
  test('on an inactive or expired account too: the password is checked first', async () => {
    expect(await result(auth('dave', 'nope'))).toBe('AUTH_ERR');
    expect(await result(auth('fred', 'nope'))).toBe('AUTH_ERR');
    expect(await result(auth('carol', 'nope', ['service=imap']))).toBe('AUTH_ERR');
  });
});

describe('user not in the store: USER_UNKNOWN', () => {
  test('auth and account', async () => {
    const { outcome } = await auth('mallory', 'guess');
    expect(outcome.result).toBe('USER_UNKNOWN');
    expect(texts(outcome, 'NOTICE')).toEqual(['authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.50 user=mallory']);
    const acct = await account('mallory');
    expect(acct.result).toBe('USER_UNKNOWN');
    // An account request for an unknown user is not a failure worth a line.
    expect(acct.logs).toEqual([]);
  });
  test('accents are not case', async () => {
    expect(await result(auth('jurgen', 'pässwörd€ ünd 漢字'))).toBe('USER_UNKNOWN');
    expect(await result(auth('JÜRGEN', 'pässwörd€ ünd 漢字'))).toBe('USER_UNKNOWN');
  });
});

describe('right password but account not active, disabled or expired', () => {
  test('inactive: PERM_DENIED, auth and account, with the reason on the account line', async () => {
    expect(await result(auth('dave', 'locked-out'))).toBe('PERM_DENIED');
    const acct = await account('dave');
    expect(acct.result).toBe('PERM_DENIED');
    expect(acct.logs).toEqual([{ level: 'NOTICE', text: 'account refused: account is not active; user=dave' }]);
  });
  test('expired: ACCT_EXPIRED, auth and account', async () => {
    expect(await result(auth('fred', 'too-late'))).toBe('ACCT_EXPIRED');
    expect((await account('fred')).result).toBe('ACCT_EXPIRED');
  });
});

describe('service= given and none of its features on: PERM_DENIED', () => {
  test.each([
    ['alice', 'wonderland', 'service=imap', 'off by the store\'s default'],
    ['alice', 'wonderland', 'service=pop3|imap', 'both off by default'],
    ['carol', 'christmas', 'service=imap', 'enabled nowhere, disabled by the user'],
    ['erin', 'no-mobile', 'service=mobile', 'disabled by the user where on by default'],
    ['dave', 'locked-out', 'service=imap', 'on, but the account is not active'],
  ])('%s %s with %s (%s), auth and account', async (user, password, arg) => {
    expect(await result(auth(user, password, [arg]))).toBe('PERM_DENIED');
    expect((await account(user, [arg])).result).toBe('PERM_DENIED');
  });
  test('feature names match without regard to case', async () => {
    expect(await result(auth('bob', 'builder', ['service=IMAP']))).toBe('SUCCESS');
  });
});

describe('bad input: refused without asking the store', () => {
  test.each([
    ['empty', ''],
    ['over 4096 bytes', 'a'.repeat(4097)],
    ['with a NUL byte', 'wonder\0land'],
  ])('password %s: AUTH_ERR', async (_what, password) => {
    expect(await result(auth('alice', password))).toBe('AUTH_ERR');
    expect(main.asked).toEqual([]);
  });
  test('a 4096-byte password is checked by the store', async () => {
    expect(await result(auth('alice', 'a'.repeat(4096)))).toBe('AUTH_ERR');
    expect(main.asked).toEqual(['verify alice']);
  });
  test.each([
    ['empty', Buffer.alloc(0)],
    ['absent', null],
    ['over 256 bytes', Buffer.alloc(257, 0x61)],
    ['with a newline', Buffer.from('alice\nroot')],
    ['with a control character', Buffer.from('ali\u0001ce')],
    ['with a C1 control', Buffer.from('ali\u0085ce')],
    ['not UTF-8', Buffer.from([0x61, 0xff, 0x62])],
  ])('user name %s: USER_UNKNOWN for auth and account, the store not asked', async (_what, name) => {
    const { outcome } = await auth(name, 'wonderland');
    expect(outcome.result).toBe('USER_UNKNOWN');
    expect((await account(name)).result).toBe('USER_UNKNOWN');
    expect(main.asked).toEqual([]);
  });
  test('a hostile user name cannot forge log fields', async () => {
    const { outcome } = await auth('x\nFAKE: rhost=10.9.9.9', 'pw');
    expect(texts(outcome, 'NOTICE')).toEqual(['authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.50 user=x\\x0aFAKE:\\x20rhost\\x3d10.9.9.9']);
  });
});

describe('store unreachable or too slow: AUTHINFO_UNAVAIL, with the cause logged', () => {
  test('down: auth and account, even with quiet', async () => {
    main.mode = 'down';
    const { outcome } = await auth('alice', 'wonderland', ['quiet']);
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(texts(outcome, 'ERR')).toEqual(['fake store: connect ECONNREFUSED 127.0.0.1:3306']);
    expect((await account('alice', ['quiet'])).result).toBe('AUTHINFO_UNAVAIL');
  });
  test('no answer within store_timeout: auth and account', async () => {
    main.mode = 'hang';
    const ctx = context({ storeTimeoutMs: 30 });
    const { outcome } = await auth('alice', 'wonderland', [], { ctx });
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(outcome.reason).toBe('fake store: no answer within 30 ms');
    expect((await account('alice', [], ctx)).result).toBe('AUTHINFO_UNAVAIL');
  });
});

describe('config the line cannot be served by: AUTHINFO_UNAVAIL, logged at ERR', () => {
  test('store= naming no section, auth and account', async () => {
    const { outcome } = await auth('alice', 'wonderland', ['store=nosuch']);
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(texts(outcome, 'ERR')).toEqual(['store=nosuch: there is no [store.nosuch] section in /etc/pam_mapi.conf']);
    expect((await account('alice', ['store=nosuch'])).result).toBe('AUTHINFO_UNAVAIL');
  });
  test('no store= and no default [store]', async () => {
    const ctx = context({ stores: new Map([['other', other]]) });
    const { outcome } = await auth('alice', 'wonderland', [], { ctx });
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(outcome.reason).toMatch(/no default store: .* has no \[store\] section/);
  });
  test.each([
    ['service=imapp', /service=imapp: unknown feature imapp/],
    ['service=', /service= names no feature/],
    ['store=../x', /store=..\/x is not a store name/],
  ])('%s fails closed, never checking the password', async (arg, reason) => {
    const { outcome } = await auth('alice', 'wonderland', [arg]);
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(texts(outcome, 'ERR').some((t) => reason.test(t))).toBe(true);
    expect(main.asked).toEqual([]);
    expect((await account('bob', [arg])).result).toBe('AUTHINFO_UNAVAIL');
  });
  test('more module arguments than the module can send whole', async () => {
    const pam = new FakePam(null, 'wonderland');
    const outcome = await decide(request('authenticate', 'alice', ['quiet'], { argsTruncated: true, password: pam.password(['quiet']) }), context());
    expect(outcome.result).toBe('AUTHINFO_UNAVAIL');
    expect(outcome.reason).toMatch(/more than 32 module arguments/);
  });
});

// libpam's pam_get_authtok() in the module applies the first-pass options before the worker
// is asked (test/integration/outcomes.test.ts runs them through real libpam); the policy checks
// the password it was sent, or answers for its absence.
describe('passwords: the first-pass options', () => {
  test('try_first_pass with a token from an earlier module: used, no prompt', async () => {
    const { outcome, pam } = await auth('alice', null, ['try_first_pass', 'debug'], { token: 'wonderland' });
    expect(outcome.result).toBe('SUCCESS');
    expect(pam.calls).toEqual(['earlier']);
    expect(texts(outcome, 'DEBUG')).toContain('using the password of an earlier module');
  });
  test('try_first_pass with a wrong token: AUTH_ERR, no prompt again', async () => {
    const { outcome, pam } = await auth('alice', 'wonderland', ['try_first_pass'], { token: 'wrong' });
    expect(outcome.result).toBe('AUTH_ERR');
    expect(pam.calls).toEqual(['earlier']);
  });
  test('try_first_pass with no token: the prompted answer is checked', async () => {
    const { outcome, pam } = await auth('alice', 'wonderland', ['try_first_pass', 'debug']);
    expect(outcome.result).toBe('SUCCESS');
    expect(pam.calls).toEqual(['prompt']);
    expect(texts(outcome, 'DEBUG')).toContain('prompting for the password');
  });
  test('use_first_pass with a token: used', async () => {
    const { outcome, pam } = await auth('alice', null, ['use_first_pass'], { token: 'wonderland' });
    expect(outcome.result).toBe('SUCCESS');
    expect(pam.calls).toEqual(['earlier']);
  });
  test('use_first_pass with no token: AUTH_ERR, never a prompt', async () => {
    const { outcome, pam } = await auth('alice', 'wonderland', ['use_first_pass']);
    expect(outcome.result).toBe('AUTH_ERR');
    expect(pam.calls).toEqual(['none']);
    expect(main.asked).toEqual([]);
  });
  test('an authentication request without the module\'s word on the password: CONV_ERR, the store not asked', async () => {
    const outcome = await decide(request('authenticate', 'alice', []), context());
    expect(outcome.result).toBe('CONV_ERR');
    expect(main.asked).toEqual([]);
  });
});

describe('conversation failed: CONV_ERR', () => {
  test.each([[[]], [['try_first_pass']]])('with %j, logged at ERR, the store not asked', async (args) => {
    const { outcome } = await auth('alice', null, args);
    expect(outcome.result).toBe('CONV_ERR');
    expect(texts(outcome, 'ERR')).toEqual(['the conversation failed: cannot get the password']);
    expect(main.asked).toEqual([]);
  });
});

describe('the other module arguments', () => {
  test('quiet: no line for ordinary failures (wrong password, unknown user, feature off, account)', async () => {
    for (const [user, pw, extra] of [['alice', 'wrong', []], ['mallory', 'x', []], ['alice', 'wonderland', ['service=imap']]] as const) {
      expect((await auth(user, pw, ['quiet', ...extra])).outcome.logs).toEqual([]);
    }
    expect((await account('dave', ['quiet'])).logs).toEqual([]);
  });
  test('debug: each step at DEBUG, never the password or its length', async () => {
    const secret = 'S3cr3t-Debug-Pw';
    const { outcome } = await auth('alice', secret, ['debug']);
    const debug = texts(outcome, 'DEBUG');
    expect(debug).toEqual(['prompting for the password', 'authenticate: AUTH_ERR (wrong password)']);
    const ok = await auth('alice', 'wonderland', ['debug', 'try_first_pass'], { token: 'wonderland' });
    expect(texts(ok.outcome, 'DEBUG')).toEqual(['using the password of an earlier module', 'authenticate: SUCCESS (accepted)']);
    for (const t of [...texts(outcome), ...texts(ok.outcome), outcome.reason, ok.outcome.reason]) {
      expect(t).not.toContain(secret);
      expect(t).not.toContain('wonderland');
      expect(t).not.toMatch(/length|\b15\b/);
    }
  });
  test('no debug: no DEBUG lines', async () => {
    expect(texts((await auth('alice', 'wonderland')).outcome, 'DEBUG')).toEqual([]);
  });
  test('the fail delay (2 s, as pam_unix) is asked for on authentication unless nodelay; never on account', async () => {
    expect((await auth('alice', 'wrong')).outcome.delayUsec).toBe(2_000_000);
    expect((await auth('alice', 'wrong', ['nodelay'])).outcome.delayUsec).toBe(0);
    expect((await account('alice')).delayUsec).toBe(0);
  });
  test('an unknown argument is logged at ERR and ignored; many, in one line', async () => {
    const { outcome } = await auth('alice', 'wonderland', ['try_first_pass', 'frobnicate']);
    expect(outcome.result).toBe('SUCCESS');
    expect(texts(outcome, 'ERR')).toEqual(['unknown option ignored: frobnicate']);
    const many = await auth('alice', 'wrong', Array.from({ length: 20 }, (_, i) => `bogus${i}`));
    expect(many.outcome.result).toBe('AUTH_ERR');
    expect(texts(many.outcome, 'ERR')).toEqual([`unknown option ignored: ${Array.from({ length: 20 }, (_, i) => `bogus${i}`).join(' ')}`]);
    expect(texts(many.outcome, 'NOTICE')).toHaveLength(1);
  });
  test('a flag given a value is not that flag', async () => {
    const { outcome } = await auth('alice', 'wrong', ['quiet=yes']);
    expect(texts(outcome, 'ERR')).toEqual(['unknown option ignored: quiet=yes']);
    expect(texts(outcome, 'NOTICE')).toHaveLength(1);
  });
  test('worker= and timeout= belong to the module: accepted; bad values logged and ignored', async () => {
    expect((await auth('alice', 'wonderland', ['worker=/run/x.sock', 'timeout=5'])).outcome.logs).toEqual([]);
    const { outcome } = await auth('alice', 'wonderland', ['worker=', 'timeout=abc', 'timeout=0', 'timeout=3601']);
    expect(outcome.result).toBe('SUCCESS');
    expect(texts(outcome, 'ERR')).toEqual(['invalid option value ignored: worker= timeout=abc timeout=0 timeout=3601']);
  });
  test('the original module\'s socket=URL: accepted, noted under debug only', async () => {
    const plain = await auth('alice', 'wonderland', ['socket=http://localhost:236/zarafa']);
    expect(plain.outcome).toMatchObject({ result: 'SUCCESS', logs: [] });
    const debug = await auth('alice', 'wonderland', ['socket=http://localhost:236/zarafa', 'debug']);
    expect(texts(debug.outcome, 'DEBUG')[0]).toBe('socket=http://localhost:236/zarafa is the original module\'s server URL; ignored');
  });
});

describe('account after a successful authentication on the same connection', () => {
  test('answered from what the authentication read, within account_reuse, same store and user', async () => {
    const { outcome } = await auth('alice', 'wonderland');
    const earlier: EarlierAuth = { store: main, user: Buffer.from('alice'), found: outcome.record!.found, atMs: performance.now() };
    main.asked.length = 0;
    const reused = await account('alice', [], context(), earlier);
    expect(reused).toMatchObject({ result: 'SUCCESS', reused: true });
    expect(main.asked).toEqual([]);
    // Still the account rules: service= is applied to the record.
    expect(await account('alice', ['service=imap'], context(), earlier)).toMatchObject({ result: 'PERM_DENIED', reused: true });
  });
  test('another user, another store, too old or reuse off: the store is asked', async () => {
    const { outcome } = await auth('alice', 'wonderland');
    const earlier: EarlierAuth = { store: main, user: Buffer.from('alice'), found: outcome.record!.found, atMs: performance.now() };
    main.asked.length = 0;
    expect((await account('bob', [], context(), earlier)).reused).toBeUndefined();
    expect((await account('alice', ['store=other'], context(), earlier)).reused).toBeUndefined();
    expect((await account('alice', [], context(), { ...earlier, atMs: performance.now() - 10_000 })).reused).toBeUndefined();
    expect((await account('alice', [], context({ accountReuseMs: 0 }), { ...earlier, atMs: performance.now() - 1 })).reused).toBeUndefined();
    expect(main.asked).toEqual(['lookup bob', 'lookup alice', 'lookup alice']);
    expect(other.asked).toEqual(['lookup alice']);
  });
});

test('never SUCCESS on any error path', async () => {
  const errors: Outcome[] = [];
  main.mode = 'down';
  errors.push((await auth('alice', 'wonderland')).outcome, await account('alice'));
  main.mode = 'hang';
  const ctx = context({ storeTimeoutMs: 10 });
  errors.push((await auth('alice', 'wonderland', [], { ctx })).outcome, await account('alice', [], ctx));
  main.mode = 'answer';
  errors.push((await auth('alice', null)).outcome, (await auth('alice', 'wonderland', ['store=nosuch'])).outcome, (await auth('alice', 'wonderland', ['service=smtp'])).outcome);
  for (const o of errors) expect(o.result).not.toBe('SUCCESS');
  for (const o of errors) expect(o.record).toBeUndefined();
});

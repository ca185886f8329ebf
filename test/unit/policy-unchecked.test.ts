// Two answers a Kerberos KDC gives that the other stores never do, against decide() itself:
// an account refused before the password was looked at (passwordOk 'unchecked'), and a right
// but expired password (state password_expired). Neither may ever become PAM_SUCCESS.
import { PamRequest } from '../../src/protocol/messages';
import { AccountState, Lookup, Store, Verification } from '../../src/stores/store';
import { decide } from '../../src/worker/policy';

/** A store that gives one fixed verdict and one fixed lookup. */
class OneAnswer implements Store {
  readonly type = 'krb5';
  readonly defaultDisabledFeatures: readonly string[] = [];
  constructor(private readonly passwordOk: boolean | 'unchecked', private readonly state: AccountState) {}
  async verify(login: string): Promise<Verification> {
    return { found: true, passwordOk: this.passwordOk, user: { login, state: this.state, features: { enabled: [], disabled: [] } } };
  }
  async lookup(login: string): Promise<Lookup> {
    return { found: true, user: { login, state: this.state, features: { enabled: [], disabled: [] } } };
  }
  async close(): Promise<void> {}
}


function request(op: 'authenticate' | 'account'): PamRequest {
  return { op, service: 'smtp', user: Buffer.from('alice'), rhost: '203.0.113.50', ruser: '', tty: '', logname: '', uid: 0, euid: 0, args: [], argsTruncated: false,
    password: op === 'authenticate' ? { kind: 'ok', from: 'prompt', secret: Buffer.from('typed-password') } : null };
}

async function run(op: 'authenticate' | 'account', store: Store): Promise<{ result: string; logs: string[] }> {
  const o = await decide(request(op), { stores: new Map([['', store]]), storeTimeoutMs: 1000, configFile: '/etc/pam_mapi.conf', accountReuseMs: 0 });
  return { result: o.result, logs: o.logs.map((l) => `${l.level} ${l.text}`) };
}

test.each([
  ['expired', 'ACCT_EXPIRED'],
  ['inactive', 'PERM_DENIED'],
  ['password_expired', 'NEW_AUTHTOK_REQD'],
  // An active account whose password nobody checked: an error, never a success.
  ['active', 'AUTHINFO_UNAVAIL'],
] as const)('password unchecked, account %s: %s', async (state, want) => {
  expect((await run('authenticate', new OneAnswer('unchecked', state))).result).toBe(want);
});

test('a right but expired password: PAM_NEW_AUTHTOK_REQD, logged as such, auth and account; a wrong one: PAM_AUTH_ERR', async () => {
  const right = await run('authenticate', new OneAnswer(true, 'password_expired'));
  expect(right.result).toBe('NEW_AUTHTOK_REQD');
  expect(right.logs.join('\n')).toMatch(/NOTICE password expired: the user must change it before mail logins work; user=alice/);
  expect((await run('account', new OneAnswer(true, 'password_expired'))).result).toBe('NEW_AUTHTOK_REQD');
  expect((await run('authenticate', new OneAnswer(false, 'password_expired'))).result).toBe('AUTH_ERR');
});

// decide() wipes the password the request carries once the outcome is known, on every path:
// a success, a wrong password, a store error, and refusals that come before the password is
// looked at.
import { PamRequest } from '../../src/protocol/messages';
import { Lookup, Store, StoreUnavailableError, Verification } from '../../src/stores/store';
import { decide } from '../../src/worker/policy';

class Fixed implements Store {
  readonly type = 'fake';
  readonly defaultDisabledFeatures: readonly string[] = [];
  constructor(private readonly mode: 'right' | 'wrong' | 'down') {}
  async verify(login: string): Promise<Verification> {
    if (this.mode === 'down') throw new StoreUnavailableError('down');
    return { found: true, passwordOk: this.mode === 'right', user: { login, state: 'active', features: { enabled: [], disabled: [] } } };
  }
  async lookup(): Promise<Lookup> { return { found: false }; }
  async close(): Promise<void> {}
}

test.each([
  ['right password', 'right', [], 'SUCCESS'],
  ['wrong password', 'wrong', [], 'AUTH_ERR'],
  ['store down', 'down', [], 'AUTHINFO_UNAVAIL'],
  ['no such store', 'right', ['store=nowhere'], 'AUTHINFO_UNAVAIL'],
] as const)('%s: the password is wiped', async (_name, mode, args, want) => {
  const secret = Buffer.from('typed-password');
  const req: PamRequest = { op: 'authenticate', service: 'smtp', user: Buffer.from('alice'), rhost: '', ruser: '', tty: '', logname: '', uid: 0, euid: 0,
    args: [...args], argsTruncated: false, password: { kind: 'ok', from: 'prompt', secret } };
  const o = await decide(req, { stores: new Map([['', new Fixed(mode)]]), storeTimeoutMs: 1000, configFile: '/etc/pam_mapi.conf', accountReuseMs: 0 });
  expect(o.result).toBe(want);
  expect(secret.equals(Buffer.alloc(secret.length))).toBe(true);
});

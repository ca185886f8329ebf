// A trivial store, kept for tests and never shipped: a fixed list of logins that share one
// password. It exists to prove the recipe of docs/architecture.md ("Adding a store").
import { timingSafeEqual } from 'crypto';
import { SectionReader } from '../../../src/config/section';
import { sameLogin } from '../../../src/stores/login';
import { Lookup, Store, StoreUser, Verification } from '../../../src/stores/store';

export interface StaticSettings {
  users: string[];
  sharedSecret: string;
  disabledFeatures: string[];
}

export function parseStaticSettings(r: SectionReader): StaticSettings {
  const users = r.list('users', []);
  if (users.length === 0) r.fail('users', 'is required');
  return { users, sharedSecret: r.required('shared_secret'), disabledFeatures: r.list('disabled_features', []) };
}

export class StaticStore implements Store {
  readonly type = 'static';
  readonly defaultDisabledFeatures: readonly string[];

  constructor(private readonly settings: StaticSettings) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
  }

  private find(login: string): StoreUser | undefined {
    const found = this.settings.users.find((u) => sameLogin(u, login));
    return found === undefined ? undefined : { login: found, state: 'active', features: { enabled: [], disabled: [] } };
  }

  async verify(login: string, password: Buffer): Promise<Verification> {
    const user = this.find(login);
    if (user === undefined) return { found: false };
    const want = Buffer.from(this.settings.sharedSecret, 'utf8');
    return { found: true, passwordOk: want.length === password.length && timingSafeEqual(want, password), user };
  }

  async lookup(login: string): Promise<Lookup> {
    const user = this.find(login);
    return user === undefined ? { found: false } : { found: true, user };
  }

  async close(): Promise<void> {}
}

// The store contract: what every store must answer, the same way, through real libpam, the
// built module and a real worker against the store's real server. Each store's suite
// (test/integration/<type>-store.test.ts) loads CONTRACT_USERS into its server, configures the
// sections and services below, and calls storeContract(); it keeps only what is particular to
// its store. A store without a server (file) has no "down" or "too slow" rows.
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from './pam';
import { moduleLines, syslogMark, syslogSince } from './syslog';

export interface ContractUser {
  login: string;
  password: string;
  /** false: an account that may not log on (Kopano's non-active user, a locked line). */
  active?: boolean;
  enabled?: string[];
  disabled?: string[];
}

export const CONTRACT_USERS: readonly ContractUser[] = [
  { login: 'alice', password: 'wonderland' },
  { login: 'bob', password: 'builder', enabled: ['imap'] },
  { login: 'carol', password: 'christmas', enabled: ['pop3'], disabled: ['imap'] },
  { login: 'eve', password: 'no-pop', disabled: ['pop3'] },
  { login: 'dan', password: 'inactive', active: false },
  { login: 'MixedCase', password: 'cases' },
  { login: 'jürgen', password: 'pässwörd€ ünd 漢字' },
  // Logins and passwords holding SQL and LDAP filter syntax: data, never syntax.
  { login: "o'brien", password: "'; DROP TABLE object; --" },
  { login: 'percent%_x', password: 'p%_\\"' },
  { login: 'star*user', password: 'star-pw-1' },
  { login: 'paren(x)', password: 'paren-pw-2' },
  { login: 'back\\slash', password: 'back-pw-3' },
];

/** The PAM services the contract uses; the config must have a default [store] with the store's
 * default disabled_features (imap pop3) and a [store.nodefaults] with `disabled_features =`. */
export function contractServices(box: Sandbox): void {
  const w = box.workerArg;
  const svc = (name: string, args: string): void => box.service(name, [`auth required {module} try_first_pass ${args} ${w}`, `account required {module} ${args} ${w}`]);
  svc('smtp', '');
  svc('imap', 'service=imap');
  svc('pop3', 'service=pop3 store=nodefaults');
  svc('popimap', 'service=pop3|imap');
  svc('popimap-comma', 'service=pop3,imap');
}

/** A server the test can stop, start, pause (SIGSTOP) and resume. */
export interface ContractServer {
  stop(): Promise<void>;
  launch(): Promise<void>;
  pause(): Promise<void>;
  resume(): void;
}

export interface ServerPair {
  /** A [store] section naming both servers, the first first; each holds the user "whereami",
   * with the password "on-first" or "on-second". */
  section: string;
  first: ContractServer;
  /** The first server as the worker's host= log field names it. */
  firstLabel: string;
  destroy(): Promise<void>;
}

export interface ContractFixture {
  box: Sandbox;
  worker: WorkerProcess;
  /** Other secrets of the suite that must never reach the worker's log. */
  secrets: string[];
  /** For a store that reads a password from a file: a section of its type whose password file
   * is the given path, and what the refusal of one readable by others says. */
  secretFile?: { section(file: string): string; refusal: RegExp };
  server?: {
    handle: ContractServer;
    /** Words of the module's log line when no server answers, and what else it names. */
    downLog: string;
    downDetail: RegExp;
    /** A stopped server is answered within this; a paused one within pausedWithinMs. */
    downWithinMs: number;
    pausedWithinMs: number;
    /** Other services on the same server that fail and come back with it. */
    alsoDown: string[];
    startPair(): Promise<ServerPair>;
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** kind says which rows apply, when the suite is defined (the fixture exists only later).
 * A store of an authority that keeps no mail features (Kerberos) sets features: false; one whose
 * names are case-sensitive (an MIT KDC's principals) caseless: false; one whose authority says an
 * account is disabled before it looks at the password (a KDC) stateBeforePassword: true; logins
 * of CONTRACT_USERS that its server cannot serve go in unservedLogins, and must then be
 * PAM_AUTHINFO_UNAVAIL, never a success. */
export function storeContract(get: () => ContractFixture, kind: {
  server: boolean; secretFile: boolean; features?: boolean; caseless?: boolean; stateBeforePassword?: boolean; unservedLogins?: string[];
}): void {
  const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(get().box, service, user, [password])).auth;
  const account = async (service: string, user: string): Promise<string | undefined> => (await pamRun(get().box, service, user, [], { accountOnly: true })).account;

  describe('the store contract', () => {
    test('right password: auth and account succeed; wrong password: PAM_AUTH_ERR', async () => {
      expect((await pamRun(get().box, 'smtp', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
      expect(await auth('smtp', 'alice', 'Wonderland')).toBe('PAM_AUTH_ERR');
      expect(await auth('smtp', 'alice', 'wonderland ')).toBe('PAM_AUTH_ERR');
    });
    test('unknown user: PAM_USER_UNKNOWN, auth and account', async () => {
      expect(await auth('smtp', 'mallory', 'x')).toBe('PAM_USER_UNKNOWN');
      expect(await account('smtp', 'mallory')).toBe('PAM_USER_UNKNOWN');
    });
    if (kind.caseless !== false) test('login names without regard to ASCII case', async () => {
      expect(await auth('smtp', 'ALICE', 'wonderland')).toBe('PAM_SUCCESS');
      expect(await auth('smtp', 'mixedcase', 'cases')).toBe('PAM_SUCCESS');
      expect(await auth('smtp', 'MIXEDCASE', 'cases')).toBe('PAM_SUCCESS');
    });
    test('UTF-8 logins and passwords', async () => {
      expect(await auth('smtp', 'MixedCase', 'cases')).toBe('PAM_SUCCESS');
      expect(await auth('smtp', 'jürgen', 'pässwörd€ ünd 漢字')).toBe('PAM_SUCCESS');
      expect(await auth('smtp', 'jürgen', 'passwörd€ ünd 漢字')).toBe('PAM_AUTH_ERR');
    });
    test(`an account that may not log on: PAM_PERM_DENIED with the right password, ${kind.stateBeforePassword === true ? 'and with a wrong one (its authority said so unasked)' : 'PAM_AUTH_ERR with a wrong one'}`, async () => {
      expect(await auth('smtp', 'dan', 'inactive')).toBe('PAM_PERM_DENIED');
      expect(await auth('smtp', 'dan', 'nope')).toBe(kind.stateBeforePassword === true ? 'PAM_PERM_DENIED' : 'PAM_AUTH_ERR');
      expect(await account('smtp', 'dan')).toBe('PAM_PERM_DENIED');
    });

    if (kind.features !== false) describe('features', () => {
      test('imap is off by default (Kopano default disabled_features) and on when the user enables it', async () => {
        expect(await auth('imap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
        expect(await account('imap', 'alice')).toBe('PAM_PERM_DENIED');
        expect(await auth('imap', 'bob', 'builder')).toBe('PAM_SUCCESS');
        expect(await account('imap', 'bob')).toBe('PAM_SUCCESS');
        expect(await auth('imap', 'carol', 'christmas')).toBe('PAM_PERM_DENIED');
      });
      test('a feature the user disabled is denied where it is on by default; one the user enabled is on', async () => {
        expect(await auth('pop3', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
        expect(await auth('pop3', 'carol', 'christmas')).toBe('PAM_SUCCESS');
        expect(await auth('pop3', 'eve', 'no-pop')).toBe('PAM_PERM_DENIED');
        expect(await account('pop3', 'eve')).toBe('PAM_PERM_DENIED');
      });
      test('service=pop3|imap (or pop3,imap) admits either', async () => {
        expect(await auth('popimap', 'carol', 'christmas')).toBe('PAM_SUCCESS');
        expect(await auth('popimap', 'bob', 'builder')).toBe('PAM_SUCCESS');
        expect(await auth('popimap-comma', 'carol', 'christmas')).toBe('PAM_SUCCESS');
        expect(await auth('popimap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
      });
    });

    describe('bad input', () => {
      test('logins and passwords with SQL and filter syntax log on as themselves', async () => {
        expect(await auth('smtp', "o'brien", "'; DROP TABLE object; --")).toBe('PAM_SUCCESS');
        expect(await auth('smtp', 'percent%_x', 'p%_\\"')).toBe('PAM_SUCCESS');
        expect(await auth('smtp', 'star*user', 'star-pw-1')).toBe('PAM_SUCCESS');
        expect(await auth('smtp', 'paren(x)', 'paren-pw-2')).toBe('PAM_SUCCESS');
        expect(await auth('smtp', 'back\\slash', 'back-pw-3')).toBe(kind.unservedLogins?.includes('back\\slash') === true ? 'PAM_AUTHINFO_UNAVAIL' : 'PAM_SUCCESS');
        expect(await auth('smtp', 'alice', "' OR ''='")).toBe('PAM_AUTH_ERR');
      });
      test.each(["alice' OR '1'='1", 'percent%%', 'star*', 'back\\5cslash', '*', ')(uid=*', '\\', 'alice)(|(uid=*', 'alice*', '*)(objectClass=*', 'al*ce', '(uid=alice)'])(
        '%s: PAM_USER_UNKNOWN, auth and account, even with a real password', async (name) => {
          expect(await auth('smtp', name, 'wonderland')).toBe('PAM_USER_UNKNOWN');
          expect(await account('smtp', name)).toBe('PAM_USER_UNKNOWN');
        });
      test('empty and over-long passwords: PAM_AUTH_ERR', async () => {
        expect(await auth('smtp', 'alice', '')).toBe('PAM_AUTH_ERR');
        expect(await auth('smtp', 'alice', 'a'.repeat(4097))).toBe('PAM_AUTH_ERR');
      });
    });

    test('32 concurrent transactions, right and wrong passwords: every answer right', async () => {
      const runs = Array.from({ length: 32 }, (_, i) => {
        const u = CONTRACT_USERS[i % 4];
        const right = i % 3 !== 0;
        return pamRun(get().box, 'smtp', u.login, [right ? u.password : `${u.password}-wrong`]).then((r) => [u.login, r.auth, right ? 'PAM_SUCCESS' : 'PAM_AUTH_ERR']);
      });
      for (const [who, got, want] of await Promise.all(runs)) expect([who, got]).toEqual([who, want]);
    });

    if (kind.secretFile) test('a password file readable by others is refused, like an ssh key', async () => {
      const secretFile = get().secretFile;
      if (secretFile === undefined) throw new Error('this store reads no password file');
      const b = Sandbox.create();
      try {
        const loose = b.file('store.secret', 'pw\n', 0o644);
        await expect(b.startWorker(b.writeConfig(secretFile.section(loose)))).rejects.toThrow(secretFile.refusal);
      } finally {
        await b.cleanup();
      }
    });
  });

  // Only a store with a server can fail this way (its fixture then has `server`).
  if (kind.server) describe('the store contract: when the server fails', () => {
    const server = (): NonNullable<ContractFixture['server']> => {
      const s = get().server;
      if (s === undefined) throw new Error('this store has no server');
      return s;
    };
    test('stopped: PAM_AUTHINFO_UNAVAIL at once, the cause logged; restarted: success without restarting the worker', async () => {
      const s = server();
      expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS'); // connections are open
      await s.handle.stop();
      try {
        const mark = syslogMark();
        const started = Date.now();
        expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
        expect(await account('smtp', 'alice')).toBe('PAM_AUTHINFO_UNAVAIL');
        for (const other of s.alsoDown) expect(await auth(other, 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
        expect(Date.now() - started).toBeLessThan(s.downWithinMs);
        expect(moduleLines(await syslogSince(mark), s.downLog)[0]).toMatch(s.downDetail);
      } finally {
        await s.handle.launch();
      }
      expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
      for (const other of s.alsoDown) expect(await auth(other, 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    });

    test('paused (SIGSTOP): PAM_AUTHINFO_UNAVAIL within store_timeout; resumed: success', async () => {
      const s = server();
      await s.handle.pause();
      try {
        const started = Date.now();
        const answers = await Promise.all([auth('smtp', 'alice', 'wonderland'), auth('smtp', 'bob', 'builder'), account('smtp', 'carol'),
          ...s.alsoDown.map((o) => auth(o, 'bob', 'builder'))]);
        expect(answers).toEqual(answers.map(() => 'PAM_AUTHINFO_UNAVAIL'));
        expect(Date.now() - started).toBeLessThan(s.pausedWithinMs);
      } finally {
        s.handle.resume();
      }
      expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    });

    test('two servers: the second serves while the first is down, the first again once it is back', async () => {
      const pair = await server().startPair();
      const box2 = Sandbox.create();
      try {
        const config = box2.writeConfig(pair.section, 'store_timeout = 2\n');
        box2.service('smtp', [`auth required {module} ${box2.workerArg}`]);
        const w2 = await box2.startWorker(config);
        const where = async (): Promise<string> => {
          if ((await pamRun(box2, 'smtp', 'whereami', ['on-first'])).auth === 'PAM_SUCCESS') return 'first';
          if ((await pamRun(box2, 'smtp', 'whereami', ['on-second'])).auth === 'PAM_SUCCESS') return 'second';
          return 'none';
        };
        expect(await where()).toBe('first');
        await pair.first.stop();
        expect(await where()).toBe('second');
        expect(w2.output).toMatch(new RegExp(`store\\.host_down .*host=${escape(pair.firstLabel)}`));
        await pair.first.launch();
        await new Promise((r) => setTimeout(r, 2200)); // a down server is tried first again after 2 s
        expect(await where()).toBe('first');
        expect(w2.output).toMatch(new RegExp(`store\\.host_back .*host=${escape(pair.firstLabel)}`));
        // A first server that hangs instead of refusing: the second still answers the same request.
        await pair.first.pause();
        try {
          expect((await pamRun(box2, 'smtp', 'whereami', ['on-second'])).auth).toBe('PAM_SUCCESS');
        } finally {
          pair.first.resume();
        }
      } finally {
        await box2.cleanup();
        await pair.destroy();
      }
    }, 60000);
  });

  test('no password ever reaches the worker\'s log', () => {
    for (const s of [...get().secrets, ...CONTRACT_USERS.map((u) => u.password)]) expect(get().worker.output).not.toContain(s);
  });
}

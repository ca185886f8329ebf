// entry_cache_timeout: the LDAP store reuses the entry a search found for a few seconds, and
// binds with the user's password every time. Counted by slapd itself (its monitor database),
// through real libpam, the built module and a real worker, against a private slapd.
import { Sandbox } from '../../src/sandbox/sandbox';
import { GROUPS, PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD, ssha } from '../../src/sandbox/slapd';
import { freePort } from '../../src/sandbox/ports';
import { pamRun } from '../helpers/pam';

/** The window of the stores that test its end: short, so the tests wait little. */
const SHORT_S = 1;
/** The require_group store's window: two logins must fit in it. */
const GROUP_S = 2;
/** Short, so the paused directory's requests end soon. */
const STORE_TIMEOUT_S = 2;
const MOVED = `ou=moved,${PEOPLE}`;
const GROUP_DN = `cn=reuse,${GROUPS}`;

let slapd: PrivateSlapd;
let box: Sandbox;

/** userPassword in {SSHA}, which auth_method = password compares (a cleartext value it would not). */
function person(cn: string, password: string, attrs: Record<string, string> = {}, parent = PEOPLE): string {
  const extra = Object.entries(attrs).map(([k, v]) => `${k}: ${v}\n`).join('');
  return `dn: cn=${cn},${parent}\nobjectClass: inetOrgPerson\nobjectClass: kopano-user\ncn: ${cn}\nsn: Test\nuid: ${cn}\n`
    + `userPassword: ${ssha(password)}\nkopanoAccount: 1\n${extra}\n`;
}

const setPassword = (cn: string, password: string, parent = PEOPLE): Promise<void> =>
  slapd.modify(`dn: cn=${cn},${parent}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${ssha(password)}\n`);

const login = async (service: string, user: string, password: string): Promise<[string | undefined, string | undefined]> => {
  const r = await pamRun(box, service, user, [password], { account: true });
  return [r.auth, r.account];
};

/** What slapd did meanwhile: binds and searches. */
async function counted(work: () => Promise<void>): Promise<{ binds: number; searches: number }> {
  const before = await slapd.completedOperations();
  await work();
  const after = await slapd.completedOperations();
  return { binds: after.binds - before.binds, searches: after.searches - before.searches };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const users = ['ann', 'ben', 'cid', 'dee', 'eli', 'fay', 'gus', 'hal', 'ida', 'jon', 'kim', 'lee', 'mia']
    .map((cn) => person(cn, `${cn}-pw-1`)).join('');
  await slapd.add(`dn: ${MOVED}\nobjectClass: organizationalUnit\nou: moved\n\n${users}`
    + `dn: ${GROUP_DN}\nobjectClass: groupOfNames\ncn: reuse\nmember: cn=kim,${PEOPLE}\nmember: cn=ann,${PEOPLE}\n`);
  box = Sandbox.create();
  const secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  const section = (name: string, extra = ''): string =>
    `[store.${name}]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\n${extra}\n`;
  const config = box.writeConfig([
    // The default window (5 s): every test here ends well within it.
    section('std'),
    section('off', 'entry_cache_timeout = 0\n'),
    section('short', `entry_cache_timeout = ${SHORT_S}\n`),
    section('group', `entry_cache_timeout = ${GROUP_S}\nrequire_group = ${GROUP_DN}\n`),
    section('pw', 'auth_method = password\n'),
  ].join('\n'), `store_timeout = ${STORE_TIMEOUT_S}\n`);
  for (const store of ['std', 'off', 'short', 'group', 'pw']) {
    box.service(store, [`auth required {module} store=${store} ${box.workerArg}`, `account required {module} store=${store} ${box.workerArg}`]);
  }
  await box.startWorker(config);
  // Every store's service connection and a kept bind connection open, so the counts below are
  // of logins only.
  for (const store of ['std', 'off', 'short', 'group', 'pw']) expect(await login(store, 'ann', 'ann-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await slapd?.destroy();
});

describe('within the window', () => {
  test('repeated logins search once, and bind with the password every time', async () => {
    const ops = await counted(async () => {
      for (let i = 0; i < 5; i++) expect(await login('std', 'ben', 'ben-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    // The first login searches (its account phase reuses its auth's answer); the other four
    // search nothing.
    expect(ops).toEqual({ binds: 5, searches: 1 });
  });

  test('entry_cache_timeout = 0: every request searches, as before', async () => {
    const ops = await counted(async () => {
      for (let i = 0; i < 5; i++) expect(await login('off', 'ben', 'ben-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    expect(ops).toEqual({ binds: 5, searches: 5 });
  });

  test('a wrong password after a right one is refused, and the right one still works', async () => {
    expect(await login('std', 'cid', 'cid-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect((await pamRun(box, 'std', 'cid', ['cid-pw-2'])).auth).toBe('PAM_AUTH_ERR');
    expect((await pamRun(box, 'std', 'cid', ['cid-pw-1'])).auth).toBe('PAM_SUCCESS');
    expect((await pamRun(box, 'std', 'cid', [''])).auth).toBe('PAM_AUTH_ERR');
  });

  test('a password changed in the directory counts at once: the old one refused, the new one admitted', async () => {
    expect(await login('std', 'dee', 'dee-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await setPassword('dee', 'dee-pw-2');
    expect((await pamRun(box, 'std', 'dee', ['dee-pw-1'])).auth).toBe('PAM_AUTH_ERR');
    expect(await login('std', 'dee', 'dee-pw-2')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  });

  test('auth_method = password compares what a fresh search read: a changed password counts at once', async () => {
    expect(await login('pw', 'eli', 'eli-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await setPassword('eli', 'eli-pw-2');
    expect((await pamRun(box, 'pw', 'eli', ['eli-pw-1'])).auth).toBe('PAM_AUTH_ERR');
    const ops = await counted(async () => {
      expect(await login('pw', 'eli', 'eli-pw-2')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    // auth searches (the password is in the entry), account reuses that search.
    expect(ops).toEqual({ binds: 0, searches: 1 });
  });

  test('an entry moved to another DN logs in, by a fresh search, with its password of the new DN', async () => {
    expect(await login('std', 'fay', 'fay-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await slapd.modify(`dn: cn=fay,${PEOPLE}\nchangetype: modrdn\nnewrdn: cn=fay\ndeleteoldrdn: 1\nnewsuperior: ${MOVED}\n`);
    await setPassword('fay', 'fay-pw-2', MOVED);
    const moved = await counted(async () => {
      expect(await login('std', 'fay', 'fay-pw-2')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    // The kept DN refuses the bind; a fresh search finds the new DN, which takes it.
    expect(moved).toEqual({ binds: 2, searches: 1 });
    expect((await pamRun(box, 'std', 'fay', ['fay-pw-1'])).auth).toBe('PAM_AUTH_ERR');
    // The entry found at its new DN is kept.
    expect(await login('std', 'fay', 'fay-pw-2')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const again = await counted(async () => {
      expect(await login('std', 'fay', 'fay-pw-2')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    expect(again).toEqual({ binds: 1, searches: 0 });
  });
});

describe('after the window', () => {
  test('an entry disabled in the directory is refused once the window has passed', async () => {
    expect(await login('short', 'gus', 'gus-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await slapd.modify(`dn: cn=gus,${PEOPLE}\nchangetype: modify\nreplace: kopanoAccount\nkopanoAccount: 0\n`);
    await sleep(SHORT_S * 1000 + 100);
    expect((await pamRun(box, 'short', 'gus', ['gus-pw-1'])).auth).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'short', 'gus', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
  });

  test('the account flags and features are read again: one search, then reused', async () => {
    expect(await login('short', 'hal', 'hal-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await slapd.modify(`dn: cn=hal,${PEOPLE}\nchangetype: modify\nadd: objectClass\nobjectClass: user\n-\nadd: userAccountControl\nuserAccountControl: 514\n`);
    await sleep(SHORT_S * 1000 + 100);
    const ops = await counted(async () => {
      expect((await pamRun(box, 'short', 'hal', ['hal-pw-1'])).auth).toBe('PAM_PERM_DENIED');
    });
    expect(ops).toEqual({ binds: 1, searches: 1 });
    expect((await pamRun(box, 'short', 'hal', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
  });

  test('require_group: the membership is read again after the window', async () => {
    const first = await counted(async () => {
      expect(await login('group', 'kim', 'kim-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    // The user's search and the group's.
    expect(first).toEqual({ binds: 1, searches: 2 });
    // Within the window, the next login reads neither again.
    const kept = await counted(async () => {
      expect((await pamRun(box, 'group', 'kim', ['kim-pw-1'])).auth).toBe('PAM_SUCCESS');
    });
    expect(kept).toEqual({ binds: 1, searches: 0 });
    await slapd.modify(`dn: ${GROUP_DN}\nchangetype: modify\nreplace: member\nmember: cn=ann,${PEOPLE}\n`);
    await sleep(GROUP_S * 1000 + 100);
    expect((await pamRun(box, 'group', 'kim', ['kim-pw-1'])).auth).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'group', 'kim', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
  });
});

describe('an account check of its own (no authentication in its transaction)', () => {
  test('searches, even within the window, and its entry serves the next login', async () => {
    expect(await login('std', 'mia', 'mia-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const account = await counted(async () => {
      expect((await pamRun(box, 'std', 'mia', [], { accountOnly: true })).account).toBe('PAM_SUCCESS');
    });
    expect(account).toEqual({ binds: 0, searches: 1 });
    const next = await counted(async () => {
      expect((await pamRun(box, 'std', 'mia', ['mia-pw-1'])).auth).toBe('PAM_SUCCESS');
    });
    expect(next).toEqual({ binds: 1, searches: 0 });
  });

  test('a hung directory: PAM_AUTHINFO_UNAVAIL for auth and for account, although the entry is kept', async () => {
    expect(await login('std', 'mia', 'mia-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await slapd.pause();
    try {
      expect((await pamRun(box, 'std', 'mia', ['mia-pw-1'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
      expect((await pamRun(box, 'std', 'mia', [], { accountOnly: true })).account).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      slapd.resume();
    }
    expect(await login('std', 'mia', 'mia-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  }, 20000);
});

describe('what an attacker sees', () => {
  test('unknown names are not kept: each one searches, as a known name\'s wrong password does, kept or not', async () => {
    const unknown = await counted(async () => {
      for (let i = 0; i < 3; i++) expect((await pamRun(box, 'std', 'nobody-here', ['guess'])).auth).toBe('PAM_USER_UNKNOWN');
    });
    expect(unknown).toEqual({ binds: 0, searches: 3 });
    // A known name with a wrong password: a search and a bind, whether its entry was kept ...
    expect(await login('std', 'ida', 'ida-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const keptWrong = await counted(async () => {
      expect((await pamRun(box, 'std', 'ida', ['wrong'])).auth).toBe('PAM_AUTH_ERR');
    });
    // ... or not (lee has not logged in).
    const freshWrong = await counted(async () => {
      expect((await pamRun(box, 'std', 'lee', ['wrong'])).auth).toBe('PAM_AUTH_ERR');
    });
    expect(keptWrong).toEqual({ binds: 1, searches: 1 });
    expect(freshWrong).toEqual({ binds: 1, searches: 1 });
    // The search that confirmed the wrong password replaced the kept entry: the user's next
    // login is one bind again.
    const next = await counted(async () => {
      expect(await login('std', 'ida', 'ida-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    expect(next).toEqual({ binds: 1, searches: 0 });
  });

  test('wrong passwords keep nothing: the next right login searches', async () => {
    for (let i = 0; i < 3; i++) expect((await pamRun(box, 'std', 'jon', ['wrong'])).auth).toBe('PAM_AUTH_ERR');
    const ops = await counted(async () => {
      expect(await login('std', 'jon', 'jon-pw-1')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    });
    expect(ops).toEqual({ binds: 1, searches: 1 });
  });
});

// Unit tests of the policy's parts. The same paths run for real, through libpam and the
// module, in test/integration/outcomes.test.ts.
import { anyFeatureEnabled, featureEnabled } from '../../src/stores/features';
import { checkPassword, checkUserName } from '../../src/worker/input-rules';
import { parseModuleOptions } from '../../src/worker/options';
import { escapeLogValue, failureLine } from '../../src/worker/syslog-line';

describe('module options', () => {
  test('the original module documented flags and service lists', () => {
    const o = parseModuleOptions(['try_first_pass', 'service=pop3|imap', 'quiet', 'debug']);
    expect(o).toMatchObject({ tryFirstPass: true, useFirstPass: false, quiet: true, debug: true, services: ['pop3', 'imap'], unknown: [] });
    expect(parseModuleOptions(['service=pop3,IMAP']).services).toEqual(['pop3', 'imap']);
  });

  test('legacy socket= is accepted; unknown arguments and bad transport values are reported, not fatal', () => {
    const o = parseModuleOptions(['socket=http://localhost:236/zarafa', 'frobnicate', 'timeout=abc', 'timeout=+5', 'nodelay']);
    expect(o.legacySocket).toBe('http://localhost:236/zarafa');
    expect(o.unknown).toEqual(['frobnicate']);
    expect(o.invalid).toEqual(['timeout=abc', 'timeout=+5']);
    expect(o.fatal).toEqual([]);
    expect(o.nodelay).toBe(true);
  });

  test('a service= or store= that cannot be honoured is fatal, never ignored', () => {
    expect(parseModuleOptions(['service=']).fatal).toEqual(['service= names no feature']);
    expect(parseModuleOptions(['service=imapp']).fatal[0]).toMatch(/unknown feature imapp/);
    expect(parseModuleOptions(['service=imap|smtp']).fatal[0]).toMatch(/unknown feature smtp/);
    expect(parseModuleOptions(['store=a b']).fatal[0]).toMatch(/not a store name/);
  });

  test('a flag given a value is not that flag', () => {
    expect(parseModuleOptions(['quiet=no']).quiet).toBe(false);
    expect(parseModuleOptions(['quiet=no']).unknown).toEqual(['quiet=no']);
  });
});

describe('features (Kopano rule)', () => {
  const none = { enabled: [], disabled: [] };
  test('server default disables imap and pop3', () => {
    expect(featureEnabled('imap', none, ['imap', 'pop3'])).toBe(false);
    expect(featureEnabled('mobile', none, ['imap', 'pop3'])).toBe(true);
  });
  test('explicit user settings win', () => {
    expect(featureEnabled('imap', { enabled: ['IMAP'], disabled: [] }, ['imap'])).toBe(true);
    expect(featureEnabled('mobile', { enabled: [], disabled: ['mobile'] }, ['imap'])).toBe(false);
  });
  test('service lists are a logical OR', () => {
    expect(anyFeatureEnabled(['pop3', 'imap'], { enabled: ['pop3'], disabled: [] }, ['imap', 'pop3'])).toBe(true);
    expect(anyFeatureEnabled(['pop3', 'imap'], none, ['imap', 'pop3'])).toBe(false);
  });
});

describe('bad input rules', () => {
  test('user names', () => {
    expect(checkUserName(null).ok).toBe(false);
    expect(checkUserName(Buffer.alloc(0)).ok).toBe(false);
    expect(checkUserName(Buffer.alloc(257, 0x61)).ok).toBe(false);
    expect(checkUserName(Buffer.alloc(256, 0x61)).ok).toBe(true);
    expect(checkUserName(Buffer.from([0x61, 0xff, 0x62])).ok).toBe(false);
    expect(checkUserName(Buffer.from('a\nb')).ok).toBe(false);
    expect(checkUserName(Buffer.from('a\u0085b')).ok).toBe(false);
    expect(checkUserName(Buffer.from('jürgen')).ok).toBe(true);
  });
  test('passwords', () => {
    expect(checkPassword(Buffer.alloc(0))).toMatch(/empty/);
    expect(checkPassword(Buffer.alloc(4097, 0x61))).toMatch(/longer/);
    expect(checkPassword(Buffer.alloc(4096, 0x61))).toBeNull();
    expect(checkPassword(Buffer.from('a\0b'))).toMatch(/NUL/);
  });
});

describe('log line', () => {
  test('pam_unix fields and order, user last and escaped', () => {
    const line = failureLine({ logname: '', uid: 0, euid: 0, tty: '', ruser: '', rhost: '203.0.113.9' }, Buffer.from('eve\nFAKE rhost=1.2.3.4'));
    expect(line).toBe('authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=203.0.113.9 user=eve\\x0aFAKE\\x20rhost\\x3d1.2.3.4');
  });
  test('fields that must stay one token escape white space; invalid UTF-8 is shown as bytes', () => {
    expect(escapeLogValue('a b\\c', false)).toBe('a\\x20b\\x5cc');
    expect(escapeLogValue(Buffer.from([0x61, 0xff, 0x20]), true)).toBe('a\\xff ');
  });
});

// The doctor on a Kerberos store, against private MIT KDCs: the keytab's key tried against the
// KDC (right, another KDC's, a KDC whose clock is off either way or a little), and the realm's
// spelling. The keytab's principal requires pre-authentication, as an Active Directory computer
// account does, so the library adjusts to a skewed KDC's clock and the doctor must still tell.
import { checkStores, Row } from '../../src/doctor/checks';
import { HOST_PRINCIPAL, PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { parseConfig } from '../../src/stores/registry';

let kdc: PrivateKdc;
let other: PrivateKdc;
let skewed: PrivateKdc;
let behind: PrivateKdc;
let near: PrivateKdc;

beforeAll(async () => {
  kdc = await PrivateKdc.start({ port: await freePort(), principals: [] });
  other = await PrivateKdc.start({ port: await freePort(), principals: [] });
  kdc.kadmin(['modprinc', '+requires_preauth', HOST_PRINCIPAL]);
  skewed = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: '+1h' });
  behind = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: '-1h' });
  near = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: '+3m' });
}, 60000);

afterAll(async () => {
  await kdc?.destroy();
  await other?.destroy();
  await skewed?.destroy();
  await behind?.destroy();
  await near?.destroy();
});

async function doctor(k: PrivateKdc, keytab: string): Promise<Row[]> {
  const text = `[worker]\nstore_timeout = 3\n[store]\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${k.address}\nkeytab = ${keytab}\n`;
  return checkStores(parseConfig(text, '/etc/pam_mapi.conf'));
}

test('the KDC issues a ticket to the keytab\'s key and it validates: OK, with the clock difference', async () => {
  const rows = await doctor(kdc, kdc.keytabFile);
  expect(rows.map((r) => r.status)).toEqual(['OK', 'OK']);
  expect(JSON.stringify(rows[1])).toMatch(/the KDC issued a ticket to its key and the ticket validated \(clocks [0-9]+ s apart\)/);
});

test('a keytab whose key is not the KDC\'s: FAIL, with how to make it again', async () => {
  const rows = await doctor(kdc, other.keytabFile);
  expect(rows.map((r) => r.status)).toEqual(['OK', 'FAIL']);
  expect(JSON.stringify(rows[1])).toMatch(/its key is not the KDC's.*msktutil update, or kadmin ktadd/);
});

test.each([['ahead', () => skewed], ['behind', () => behind]] as const)('a KDC an hour %s: FAIL naming the clocks, as a login would be refused', async (_, k) => {
  const rows = await doctor(k(), kdc.keytabFile);
  expect(rows.map((r) => r.status)).toEqual(['OK', 'FAIL']);
  // Kerberos times are whole seconds, and a second may turn between this host reading its clock
  // and the KDC reading its own: an hour is 3599 to 3601 s (3599 was seen with both cores busy).
  expect(JSON.stringify(rows[1])).toMatch(/clocks of this host and the KDC differ by more than the allowed skew \(300 s.*(3599|3600|3601) s.*PAM_AUTHINFO_UNAVAIL.*chrony/);
});

test('a KDC 3 minutes ahead: the keytab OK, and a warning before the 300 s limit', async () => {
  const rows = await doctor(near, kdc.keytabFile);
  expect(rows.map((r) => r.status)).toEqual(['OK', 'OK', 'WARN']);
  expect(JSON.stringify(rows[2])).toMatch(/the KDC's clock is 1[78][0-9] s from this host's; logins are refused beyond 300 s/);
});

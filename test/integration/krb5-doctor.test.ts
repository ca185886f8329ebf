// The doctor on a Kerberos store, against private MIT KDCs: the keytab's key tried against the
// KDC (right, another KDC's, a KDC whose clock is off), and the realm's spelling.
import { checkStores, Row } from '../../src/doctor/checks';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { parseConfig } from '../../src/stores/registry';

let kdc: PrivateKdc;
let other: PrivateKdc;
let skewed: PrivateKdc;

beforeAll(async () => {
  kdc = await PrivateKdc.start({ port: await freePort(), principals: [] });
  other = await PrivateKdc.start({ port: await freePort(), principals: [] });
  skewed = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: '+1h' });
}, 60000);

afterAll(async () => {
  await kdc?.destroy();
  await other?.destroy();
  await skewed?.destroy();
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

test('a KDC an hour ahead: FAIL naming the clocks', async () => {
  const rows = await doctor(skewed, kdc.keytabFile);
  expect(rows.map((r) => r.status)).toContain('FAIL');
  expect(JSON.stringify(rows)).toMatch(/clocks of this host and the KDC differ.*chrony/);
});

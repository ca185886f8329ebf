// The targets, each computed from figures of the same run: ratios between modules
// measured side by side, never against numbers from another day.
import { ModuleName } from './options';
import { pointOf, Results } from './results';
import { missMedian } from './miss-cost';
import { SCALING_ROUNDS, scalingMedian } from './scaling';
import { MAPI_STORES } from './stacks';
import { AGREE, crossMedian } from './cross-check';

export interface TargetCheck {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

const RSS_LIMIT_MB = 100;

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function checkTargets(r: Results): TargetCheck[] {
  const users = r.levels.map((l) => l.users);
  const most = Math.max(...users);
  const least = Math.min(...users);
  const many = r.options.clients.includes(16) ? 16 : Math.max(...r.options.clients);
  const at = (m: ModuleName, c = many, u = most) => pointOf(r, m, u, c);
  const out: TargetCheck[] = [];
  const none = (target: string): void => {
    out.push({ target, measured: 'not measured in this run', met: null });
  };

  const ratio = (target: string, a: ModuleName, b: ModuleName, factor: number, clients = many): void => {
    const pa = at(a, clients);
    const pb = at(b, clients);
    if (!pa || !pb) return none(target);
    const x = pa.load.authsPerS / pb.load.authsPerS;
    out.push({ target, measured: `${fmt(pa.load.authsPerS)} / ${fmt(pb.load.authsPerS)} auths/s = ${fmt(x, 2)}×`, met: x >= factor });
  };
  // Issue 15: the worker's CPU per transaction against the Node floor's (a do-nothing Node
  // server replaying the worker's frames over the same socket and round trips).
  const cpuOf = (m: ModuleName, process: string): number | undefined => at(m)?.cpuPerTx?.find((c) => c.process === process)?.us;
  const floorCpu = cpuOf('node_floor', 'node floor');
  for (const [store, factor] of [['file', 1.3], ['zarafa', 1.8], ['ldap', 2.5]] as const) {
    const target = `${store}: worker CPU per transaction ≤ ${factor}× the Node floor's at ${many} clients`;
    const w = cpuOf(`mapi_${store}`, 'worker');
    if (w === undefined || floorCpu === undefined || floorCpu <= 0) {
      none(target);
      continue;
    }
    out.push({ target, measured: `${fmt(w)} µs / ${fmt(floorCpu)} µs = ${fmt(w / floorCpu, 2)}×`, met: w <= factor * floorCpu });
  }

  ratio(`zarafa ≥ 5× pam_mysql at ${many} clients, ${fmt(most)} users`, 'mapi_zarafa', 'pam_mysql', 5);
  if (r.options.clients.includes(1)) ratio(`zarafa ≥ 3× pam_mysql at 1 client, ${fmt(most)} users`, 'mapi_zarafa', 'pam_mysql', 3, 1);

  const z = at('mapi_zarafa');
  const my = at('pam_mysql');
  if (z && my) {
    out.push({ target: `zarafa p99 ≤ pam_mysql p50 at ${many} clients`, measured: `${fmt(z.load.p99)} µs vs ${fmt(my.load.p50)} µs`, met: z.load.p99 <= my.load.p50 });
  } else none(`zarafa p99 ≤ pam_mysql p50 at ${many} clients`);

  ratio(`ldap ≥ 3× pam_ldap+nslcd at ${many} clients, ${fmt(most)} users`, 'mapi_ldap', 'pam_ldap', 3);
  ratio(`ldap ≥ 10× pam_sss+sssd at ${many} clients, ${fmt(most)} users`, 'mapi_ldap', 'pam_sss', 10);

  const permit1 = at('pam_permit', 1);
  const file1 = at('mapi_file', 1);
  const p50Target = 'file: 1-client p50 ≤ 3× pam_permit\'s p50';
  if (permit1 && file1) {
    out.push({ target: p50Target, measured: `${fmt(file1.load.p50)} µs / ${fmt(permit1.load.p50)} µs = ${fmt(file1.load.p50 / permit1.load.p50, 2)}×`, met: file1.load.p50 <= 3 * permit1.load.p50 });
  } else none(p50Target);

  const permit = at('pam_permit', 1);
  const pk = r.levels.find((l) => l.users === most)?.pk;
  // Not krb5: three KDC round trips and a key derived from the password are no primary-key read.
  for (const m of (Object.keys(MAPI_STORES) as ModuleName[]).filter((x) => x !== 'mapi_krb5')) {
    const target = `${m.replace('mapi_', '')}: 1-client p50 ≤ 2 × (pam_permit p50 + PK lookup p50)`;
    const p = at(m, 1);
    if (!p || !permit || !pk) {
      if (r.options.modules.includes(m)) none(target);
      continue;
    }
    const limit = 2 * (permit.load.p50 + pk.p50);
    out.push({ target, measured: `${fmt(p.load.p50)} µs vs 2 × (${fmt(permit.load.p50)} + ${fmt(pk.p50)}) = ${fmt(limit)} µs`, met: p.load.p50 <= limit });
  }

  // From the side-by-side rounds when the run has them (see scaling.ts), else from the levels.
  const side = (u: number) => scalingMedian(r.scaling ?? [], u);
  const small = side(least) ?? at('mapi_zarafa', many, least)?.load;
  const large = side(most) ?? at('mapi_zarafa', many, most)?.load;
  const how = side(least) && side(most) ? `side by side, median of ${SCALING_ROUNDS} rounds` : 'levels of the run';
  const dropTarget = most > least ? `zarafa auths/s drop ≤ 20% from ${fmt(least)} to ${fmt(most)} users (${many} clients)` : 'zarafa auths/s drop ≤ 20% from 1,000 to 100,000 users';
  if (small && large && most > least) {
    const drop = 1 - large.authsPerS / small.authsPerS;
    out.push({ target: dropTarget, measured: `${fmt(small.authsPerS)} → ${fmt(large.authsPerS)} auths/s: ${drop >= 0 ? '−' : '+'}${fmt(Math.abs(drop) * 100, 1)}% (${how})`, met: drop <= 0.2 });
  } else none(dropTarget);

  // An unknown name must cost what a known one does, and not more database work with more users.
  const miss = r.missCost ?? [];
  const missUsers = [...new Set(miss.map((p) => p.users))].sort((a, b) => a - b);
  const missTarget = 'zarafa: unknown name p50 ≤ 1.3 × known name with a wrong password p50, at the most users';
  const mostMiss = missUsers[missUsers.length - 1];
  const known = mostMiss === undefined ? undefined : missMedian(miss, mostMiss, 'known');
  const unknown = mostMiss === undefined ? undefined : missMedian(miss, mostMiss, 'unknown');
  if (known && unknown) {
    out.push({ target: missTarget, measured: `${fmt(unknown.p50)} µs vs ${fmt(known.p50)} µs at ${fmt(mostMiss)} users = ${fmt(unknown.p50 / known.p50, 2)}×`, met: unknown.p50 <= 1.3 * known.p50 });
  } else none(missTarget);
  const fewMiss = missUsers.length > 1 ? missMedian(miss, missUsers[0], 'unknown') : undefined;
  const rowsTarget = 'zarafa: rows read per unknown-name request do not grow with the users';
  if (fewMiss && unknown) {
    // "Do not grow": at most one row more per request, whatever the factor in users.
    out.push({ target: rowsTarget, measured: `${fmt(fewMiss.rowsRead, 1)} at ${fmt(missUsers[0])} users, ${fmt(unknown.rowsRead, 1)} at ${fmt(mostMiss)}`, met: unknown.rowsRead <= fewMiss.rowsRead + 1 });
  } else none(rowsTarget);

  const level = r.levels.find((l) => l.users === most);
  for (const w of level?.workers ?? []) {
    const mb = w.rssKb / 1024;
    out.push({ target: `${w.module.replace('mapi_', '')} worker RSS ≤ ${RSS_LIMIT_MB} MB at ${fmt(most)} users after the run`, measured: `${fmt(mb, 1)} MB (peak ${fmt(w.hwmKb / 1024, 1)} MB)`, met: mb <= RSS_LIMIT_MB });
  }

  // The benchmark's own figures against the outside-style harness's (cross-check.ts).
  const cross = r.crossCheck ?? [];
  const crossTarget = `the benchmark agrees with an outside-style harness within ${fmt(AGREE * 100)}% (auths/s, median of rounds)`;
  // A row agrees, or its pam_load run with right passwords only agrees (the same work as the
  // harness's: what differs is the benchmark's every Nth wrong password, not how it measures),
  // or neither.
  const within = (a: number, b: number): boolean => Math.abs(a / b - 1) <= AGREE;
  const rows = [...new Set(cross.map((p) => `${p.module} ${p.clients}`))].map((k) => {
    const [m, c] = k.split(' ');
    const own = crossMedian(cross, m as ModuleName, Number(c), 'pam_load');
    const outside = crossMedian(cross, m as ModuleName, Number(c), 'pam-threads');
    if (!own || !outside) return null;
    if (within(own.authsPerS, outside.authsPerS)) return 'agree';
    const right = crossMedian(cross, m as ModuleName, Number(c), 'pam_load, right passwords only');
    return right && within(right.authsPerS, outside.authsPerS) ? 'same work agrees' : 'apart';
  }).filter((x): x is 'agree' | 'same work agrees' | 'apart' => x !== null);
  if (rows.length > 0) {
    const agree = rows.filter((x) => x === 'agree').length;
    const sameWork = rows.filter((x) => x === 'same work agrees').length;
    const more = sameWork === 0 ? '' : `; ${sameWork} more agree when pam_load too sends right passwords only (its every ${r.options.wrongEvery}th wrong password is the difference)`;
    out.push({ target: crossTarget, measured: `${agree} of ${rows.length} rows agree${more} (see the cross-check table)`, met: agree + sameWork === rows.length });
  } else none(crossTarget);

  const wrong = r.points.reduce((a, p) => a + p.load.wrongAnswers, 0) + r.soak.reduce((a, s) => a + s.wrongAnswers, 0)
    + cross.reduce((a, p) => a + p.wrongAnswers, 0);
  out.push({ target: 'every answer right (wrong passwords refused, right ones accepted)', measured: `${fmt(wrong)} wrong answers`, met: wrong === 0 });
  return out;
}

// BENCHMARKS.md: the run's figures as Markdown tables. Only the part between the markers is
// rewritten; text outside them (the findings, the lead's notes) stays.
import fs from 'fs';
import path from 'path';
import { NSLCD_THREADS } from './nslcd';
import { MODULES, ModuleName, WARMUP_SECONDS } from './options';
import { pointOf, Point, Results } from './results';
import { LABELS } from './stacks';
import { MissKind, missMedian, MISS_ROUNDS } from './miss-cost';
import { hotMedian, HOT_ROUNDS, HOT_VARIANTS } from './hot-path';
import { scalingMedian } from './scaling';
import { checkTargets } from './targets';
import { AGREE, CROSS_ROUNDS, CROSS_TOOLS, CrossPoint, crossMedian } from './cross-check';
import { CpuPerTx } from './cpu-per-tx';

export const BEGIN = '<!-- BEGIN npm run bench: generated, rewritten by every run -->';
export const END = '<!-- END npm run bench -->';

const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');
const n1 = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const us = (v: number): string => (v >= 10000 ? `${n1(v / 1000)} ms` : `${n0(v)} µs`);
const mb = (kb: number): string => `${n1(kb / 1024)} MB`;

/** A Markdown table, the first column left-aligned and the others right-aligned (numbers). */
function table(head: string[], rows: string[][], numbers = true): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 || !numbers ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** "worker 137, mariadbd 53, client 180" (µs per transaction). */
function cpuCell(c: CpuPerTx[] | undefined): string {
  return c === undefined || c.length === 0 ? '-' : c.map((x) => `${x.process} ${n0(x.us)}`).join(', ');
}

function pointRow(p: Point): string[] {
  const l = p.load;
  return [LABELS[p.module], String(p.clients), n0(l.authsPerS), us(l.p50), us(l.p90), us(l.p99), us(l.max),
    `${n0(l.failed)} / ${n0(l.transactions)}`, n0(l.wrongAnswers),
    p.workerCpu === null ? '-' : `${n0(p.workerCpu)}%`, p.serverCpu === null ? '-' : `${n0(p.serverCpu)}%`, cpuCell(p.cpuPerTx), `${n0(p.machineCpu)}%`, `${n0(p.othersCpu)}%`];
}

const POINT_HEAD = ['module', 'clients', 'auths/s', 'p50', 'p90', 'p99', 'max', 'failed / transactions', 'wrong answers', 'worker CPU', 'server CPU', 'CPU µs per transaction', 'machine CPU', 'others\' CPU'];

function modulesOf(r: Results): ModuleName[] {
  return MODULES.filter((m) => r.options.modules.includes(m));
}

function comparison(r: Results): string[] {
  if (r.points.length === 0) return [];
  const most = Math.max(...r.levels.map((l) => l.users));
  const chart = path.relative(path.dirname(r.options.markdownFile), r.options.chartFile);
  const at = r.points.filter((p) => p.users === most).sort((a, b) => MODULES.indexOf(a.module) - MODULES.indexOf(b.module) || a.clients - b.clients);
  const many = r.options.clients.includes(16) ? 16 : Math.max(...r.options.clients);
  const scaling = modulesOf(r).map((m) => [LABELS[m], ...r.levels.map((l) => {
    const p = pointOf(r, m, l.users, many);
    return p ? `${n0(p.load.authsPerS)} (p99 ${us(p.load.p99)})` : '-';
  })]);
  const memory = modulesOf(r).filter((m) => m.startsWith('mapi_')).map((m) => [LABELS[m], ...r.levels.map((l) => {
    const w = l.workers.find((x) => x.module === m);
    return w ? `${mb(w.rssKb)} (peak ${mb(w.hwmKb)}, anonymous ${mb(w.anonKb)})` : '-';
  })]);
  const dbRows = r.points.filter((p) => p.db !== null && p.clients === many).map((p) => [LABELS[p.module], n0(p.users),
    n1(p.db!.rowsScanned), n1(p.db!.rowsByIndex), n1(p.db!.tmpDiskTables), n1(p.db!.tmpTables), n1(p.db!.statements), n1(p.db!.connections)]);
  const problems = r.levels.flatMap((l) => l.workers.filter((w) => w.problems > 0).map((w) => `- ${LABELS[w.module]}, ${n0(l.users)} users: ${w.problems} warning/error lines in the worker's log, e.g. \`${w.sample[0]}\``));
  return [
    `![auths/s and p99 against clients](${chart})`,
    '',
    `### ${n0(most)} users, every module at every client count`,
    '',
    table(POINT_HEAD, at.map(pointRow)),
    '',
    `### Against the number of users (${many} clients): auths/s (p99)`,
    '',
    table(['module', ...r.levels.map((l) => `${n0(l.users)} users`)], scaling),
    '',
    ...sideBySide(r, many),
    `### MariaDB's work per transaction (${many} clients, from its global status counters)`,
    '',
    table(['module', 'users', 'rows read by scans', 'rows read by index', 'temp tables on disk', 'temp tables', 'statements', 'connections'], dbRows),
    '',
    '### Worker memory after all points at each user count',
    '',
    table(['store', ...r.levels.map((l) => `${n0(l.users)} users`)], memory),
    ...(problems.length > 0 ? ['', ...problems] : []),
    '',
    '### Primary-key lookup and loading the users',
    '',
    table(['users', 'PK lookup p50', 'PK lookup p99', 'MariaDB insert (new users)', 'slapadd (new users)', 'users file'],
      r.levels.map((l) => [n0(l.users), l.pk ? us(l.pk.p50) : '-', l.pk ? us(l.pk.p99) : '-', `${n1(l.fill.mysql)} s`, `${n1(l.fill.ldap)} s`, `${n1(l.fill.file)} s`])),
    '',
    '<details><summary>Every point of the run</summary>',
    '',
    table(['users', ...POINT_HEAD], r.points.map((p) => [n0(p.users), ...pointRow(p)])),
    '',
    '</details>',
    '',
  ];
}

/** A warning when other work took a noticeable share of the machine during the points. */
function busyNote(r: Results): string[] {
  if (r.points.length === 0) return [];
  const others = r.points.map((p) => p.othersCpu).sort((a, b) => a - b);
  const median = others[Math.floor(others.length / 2)];
  const worst = others[others.length - 1];
  return median > 5
    ? [`**The machine was not quiet:** processes other than this benchmark's used a median ${n0(median)}% (at most ${n0(worst)}%) of all cores during the points; the figures are noisier and lower than on an idle machine.`, '']
    : [`Processes other than this benchmark's used a median ${n0(median)}% (at most ${n0(worst)}%) of all cores during the points.`, ''];
}

function sideBySide(r: Results, many: number): string[] {
  const scaling = r.scaling ?? [];
  if (scaling.length === 0) return [];
  const users = [...new Set(scaling.map((p) => p.users))].sort((a, b) => a - b);
  const rounds = [...new Set(scaling.map((p) => p.round))].sort((a, b) => a - b);
  const cell = (u: number, round: number): string => {
    const p = scaling.find((x) => x.users === u && x.round === round);
    return p ? `${n0(p.load.authsPerS)} (p99 ${us(p.load.p99)})` : '-';
  };
  return [
    `### pam_mapi zarafa at each user count side by side (${many} clients; one database and worker per count, alternating)`,
    '',
    table(['round', ...users.map((u) => `${n0(u)} users`)], [
      ...rounds.map((round) => [String(round), ...users.map((u) => cell(u, round))]),
      ['median', ...users.map((u) => {
        const m = scalingMedian(scaling, u);
        return m ? `${n0(m.authsPerS)} (p99 ${us(m.p99)})` : '-';
      })],
    ]),
    '',
  ];
}

/** Why a module's two figures may differ by design: what pam_load does that the harness does not. */
function crossNote(r: Results, points: CrossPoint[], m: ModuleName, clients: number): string {
  const own = crossMedian(points, m, clients, 'pam_load');
  const outside = crossMedian(points, m, clients, 'pam-threads');
  if (!own || !outside) return '-';
  const d = own.authsPerS / outside.authsPerS - 1;
  if (Math.abs(d) <= AGREE) return 'agree';
  // pam_permit and the Node floor take any password: pam_load sends them no wrong ones.
  const right = m === 'pam_permit' || m === 'node_floor' ? undefined : crossMedian(points, m, clients, 'pam_load, right passwords only');
  if (right && Math.abs(right.authsPerS / outside.authsPerS - 1) <= AGREE) {
    return `**disagree**: pam_load with right passwords only agrees (${n0(right.authsPerS)}): the difference is its every ${r.options.wrongEvery}th wrong password`;
  }
  // How far one tool's own rounds lie apart: the noise of the machine or of the stack itself
  // (sssd's), whatever the tool.
  const spread = Math.max(...CROSS_TOOLS.map((t) => {
    const rounds = points.filter((p) => p.module === m && p.clients === clients && p.tool === t).map((p) => p.authsPerS);
    return rounds.length === 0 ? 1 : Math.max(...rounds) / Math.min(...rounds);
  }));
  return spread > 1 + 2 * AGREE
    ? `**disagree**: one tool's own rounds spread ${n1(spread)}×, more than the tools differ; see bench/README.md`
    : '**disagree**: see bench/README.md (the cross-check)';
}

function crossPart(r: Results): string[] {
  const points = r.crossCheck ?? [];
  if (points.length === 0) return [];
  const tools = CROSS_TOOLS.filter((t) => points.some((p) => p.tool === t));
  const clients = [...new Set(points.map((p) => p.clients))].sort((a, b) => a - b);
  const cpu = (m: ModuleName, c: number, tool: string): string => {
    // The median round's CPU per transaction (by auths/s) stands for the tool's.
    const at = points.filter((p) => p.module === m && p.clients === c && p.tool === tool).sort((a, b) => a.authsPerS - b.authsPerS);
    return at.length === 0 ? '-' : cpuCell(at[Math.floor((at.length - 1) / 2)].cpuPerTx);
  };
  const rows = clients.flatMap((c) => modulesOf(r).filter((m) => points.some((p) => p.module === m && p.clients === c)).map((m) => [
    LABELS[m], String(c),
    ...tools.map((t) => {
      const x = crossMedian(points, m, c, t);
      return x ? `${n0(x.authsPerS)} (p50 ${us(x.p50)})` : '-';
    }),
    ...tools.map((t) => cpu(m, c, t)),
    crossNote(r, points, m, c),
  ]));
  return [
    `### Cross-check: the benchmark's load generator against an outside-style harness (${n0(points[0].users)} users, median of ${CROSS_ROUNDS} rounds, alternating)`,
    '',
    'pam_load runs as in the points above (every ' + `${r.options.wrongEvery}th password wrong, a no-op fail-delay hook), and again with right passwords only; pam-threads (\`bench/harness/pam-threads.c\`, built by the run with gcc)`
      + ' is written apart from it: right passwords only, its own loop and clock. They agree when the medians differ by at most '
      + `${n0(AGREE * 100)}% of the harness's.`,
    '',
    table(['module', 'clients', ...tools.map((t) => `${t}: auths/s`), ...tools.map((t) => `${t}: CPU µs per transaction`), ''], rows),
    '',
  ];
}

function missPart(r: Results): string[] {
  const points = r.missCost ?? [];
  if (points.length === 0) return [];
  const users = [...new Set(points.map((p) => p.users))].sort((a, b) => a - b);
  const row = (u: number, kind: MissKind, label: string): string[] => {
    const m = missMedian(points, u, kind);
    const name = `${n0(u)} users, ${label}`;
    return m ? [name, us(m.p50), n1(m.rowsScanned), n1(m.rowsRead)] : [name, '-', '-', '-'];
  };
  return [
    `### pam_mapi zarafa: an unknown name against a known name with a wrong password (1 client, median of ${MISS_ROUNDS} rounds)`,
    '',
    table(['name', 'p50', 'rows scanned / request', 'rows read / request'],
      users.flatMap((u) => [row(u, 'known', 'known, wrong password'), row(u, 'unknown', 'unknown (never asked before)')])),
    '',
    'Rows from MariaDB\'s status counters over each point: scanned is `Handler_read_rnd_next`, read adds `Handler_read_next` and `Handler_read_key`.',
    '',
  ];
}

function hotPart(r: Results): string[] {
  const points = r.hotPath ?? [];
  if (points.length === 0) return [];
  const clients = [...new Set(points.map((p) => p.clients))].sort((a, b) => a - b);
  return [
    `### The throttle and the accounting log on the hot path (file store, ${n0(points[0].users)} users, median of ${HOT_ROUNDS} rounds, same run)`,
    '',
    table(['clients', 'variant', 'auths/s', 'p50', 'p99', 'wrong answers'], clients.flatMap((c) => HOT_VARIANTS.map((v) => {
      const m = hotMedian(points, v, c);
      return m ? [String(c), v, n0(m.authsPerS), us(m.p50), us(m.p99), n0(m.wrong)] : [String(c), v, '-', '-', '-', '-'];
    }))),
    '',
  ];
}

/** CPU µs per transaction from a point's percent of one core (over the point, whose length is
 * pam_load's seconds and its start, a few ms). */
function cpuPerTx(percent: number | null | undefined, p: Point): number | null {
  return percent === null || percent === undefined || p.load.transactions === 0 ? null : (percent / 100) * p.load.seconds * 1e6 / p.load.transactions;
}

/** pam_mapi's krb5 store beside pam_krb5 against the same KDC (bench/krb5.ts): measured at the
 * least users only, so shown here whatever the run's largest user count. */
function krb5Part(r: Results): string[] {
  const points = r.points.filter((p) => p.module === 'mapi_krb5' || p.module === 'pam_krb5')
    .sort((a, b) => a.clients - b.clients || MODULES.indexOf(a.module) - MODULES.indexOf(b.module));
  if (points.length === 0) return [];
  const users = points[0].users;
  const made = r.levels.find((l) => l.users === users)?.fill.krb5;
  const cell = (v: number | null): string => (v === null ? '-' : n0(v));
  const rows = points.map((p) => {
    const client = cpuPerTx(p.clientCpu, p);
    const worker = cpuPerTx(p.workerCpu, p);
    const kdc = cpuPerTx(p.serverCpu, p);
    const host = client === null ? null : client + (worker ?? 0);
    return [LABELS[p.module], String(p.clients), n0(p.load.authsPerS), us(p.load.p50), us(p.load.p99), `${n0(p.load.failed)} / ${n0(p.load.transactions)}`,
      n0(p.load.wrongAnswers), cell(client), cell(worker), cell(host), cell(kdc)];
  });
  const ratios = [...new Set(points.map((p) => p.clients))].flatMap((c) => {
    const a = pointOf(r, 'mapi_krb5', users, c);
    const b = pointOf(r, 'pam_krb5', users, c);
    return a && b ? [`${c} client${c === 1 ? '' : 's'} ${n1(a.load.authsPerS / b.load.authsPerS)}×`] : [];
  });
  return [
    `### Kerberos: pam_mapi krb5 beside pam_krb5, one private KDC, ${n0(users)} principals`,
    '',
    table(['module', 'clients', 'auths/s', 'p50', 'p99', 'failed / transactions', 'wrong answers', 'pam_load CPU µs/tx', 'worker CPU µs/tx', 'host CPU µs/tx', 'krb5kdc CPU µs/tx'], rows),
    '',
    ...(ratios.length > 0 ? [`pam_mapi krb5 / pam_krb5 auths/s: ${ratios.join(', ')}.`, ''] : []),
    'Both validate every ticket against the same host keytab (pam_krb5 with `keytab=`, `no_ccache`, `ignore_k5login` and `verify_ap_req_nofail`), so a login is the same'
      + ' three KDC exchanges for both: an AS-REQ answered "pre-authentication required", the AS-REQ with the encrypted timestamp, a TGS-REQ for the host'
      + ' principal. pam_load CPU is libpam and the module in the client threads (all of pam_krb5\'s Kerberos work); host CPU adds the worker\'s; the KDC would'
      + ` be another machine. Measured at the least user count only${made !== undefined ? ` (making the ${n0(users)} principals with kadmin.local took ${n1(made)} s)` : ''}.`,
    '',
  ];
}

function soakPart(r: Results): string[] {
  if (r.soak.length === 0) return [];
  const steps = r.soak[0].points.map((p) => p.requests);
  return [
    `### Memory soak: worker RSS every ${n0(r.options.soakStep)} requests (${n0(r.soak[0].users)} users)`,
    '',
    table(['requests', ...r.soak.map((s) => `${LABELS[s.module as ModuleName]}: RSS (anonymous)`)],
      steps.map((n, i) => [n0(n), ...r.soak.map((s) => (s.points[i] ? `${mb(s.points[i].rssKb)} (${mb(s.points[i].anonKb)})` : '-'))])),
    '',
    ...r.soak.map((s) => `${LABELS[s.module as ModuleName]}: ${n0(s.transactions)} transactions in ${n1(s.seconds)} s, ${n0(s.wrongAnswers)} wrong answers.`),
    '',
  ];
}

export function generated(r: Results): string {
  const targets = checkTargets(r);
  const most = Math.max(...r.levels.map((l) => l.users));
  return [
    BEGIN,
    `## Results (${r.options.mode} run)`,
    '',
    `Command: \`${r.options.command}\` (as root, from the checkout). Wall clock: ${n1(r.wallSeconds / 60)} min.`,
    r.points.length === 0
      ? (r.options.missCostOnly ? 'Only the zarafa store\'s unknown-name cost.' : r.options.hotPathOnly ? 'Only the throttle\'s and the accounting log\'s cost.'
        : r.options.crossCheckOnly ? 'Only the cross-check, with pam_load\'s right-passwords-only runs beside it.'
        : `Only the memory soak: ${n0(r.options.soakRequests)} requests per worker.`)
      : `Users: ${r.levels.map((l) => n0(l.users)).join(', ')}; clients: ${r.options.clients.join(', ')}; ${r.options.seconds} s per point;`
        + ` every ${r.options.wrongEvery}th transaction with a wrong password (not for pam_permit); zarafa store pool_size ${r.options.poolSize}.`,
    '',
    table(['machine', ''], r.facts.map(([k, v]) => [k, v.replace(/\|/g, '\\|')]), false),
    '',
    ...busyNote(r),
    ...(r.points.length > 0 ? [
      `### Targets (ratios from this run, ${n0(most)} users)`,
      '',
      table(['target', 'measured', ''], targets.map((t) => [t.target, t.measured, t.met === null ? '-' : t.met ? 'met' : '**not met**']), false),
      '',
    ] : []),
    ...comparison(r),
    ...crossPart(r),
    ...krb5Part(r),
    ...missPart(r),
    ...hotPart(r),
    ...soakPart(r),
    '### How these were measured',
    '',
    '- A transaction is pam_start, pam_authenticate, pam_acct_mgmt (after a success), pam_end, from `build/Release/pam_load`'
      + ' threads; user k is `user<k>` with password `pw-<k>`; every answer is checked. Each point is measured after a'
      + ` ${WARMUP_SECONDS} s warm-up of every module, the modules interleaved (all at 1 client, then all at 4, ...).`,
    '- pam_mysql (Debian 0.8.2 crashes with threads in one process) runs as one single-thread pam_load process per client;'
      + ' its auths/s are the sum, its percentiles the median of the processes\' percentiles, its max the largest.',
    `- pam_ldap talks to nslcd (${NSLCD_THREADS} threads, anonymous search, \`pam_authc_ppolicy no\`) in a private mount namespace; pam_mapi\'s ldap store searches as \`cn=pam\` and binds as the user, as nslcd does.`
      + ' slapd runs with `loglevel none` (Debian\'s default), MariaDB with a 512 MB buffer pool; every private pam.d has an `other` file.',
    '- Worker CPU and server CPU are percent of one core over the point (server: mariadbd for zarafa and pam_mysql, slapd for ldap, slapd + nslcd for pam_ldap, krb5kdc for the Kerberos rows);'
      + ' machine CPU is percent of all cores, others\' CPU the part of it used by processes that are not this benchmark\'s'
      + ' (another job on the machine: figures with much of it are noisy). The worker logs each request at info level to a file, as under journald.',
    '- CPU µs per transaction: each process\'s user + system time over the point (`/proc/<pid>/stat`) divided by the point\'s transactions;'
      + ' "client" is pam_load itself (libpam and the module in its threads), from its rusage. pam_sss + sssd: sssd\'s monitor, back end (sssd_be)'
      + ' and responders (sssd_pam, sssd_nss) in a private mount namespace, the LDAP provider against the same slapd, no credential cache.',
    '- The Node floor: a do-nothing Node server (`bench/node-floor-server.ts`) behind pam_mapi.so that answers each frame with the frames a real'
      + ' file-store worker sent in one recorded transaction: the same socket and round trips, none of the work.',
    ...(r.syslog !== null ? [`- Syslog messages the modules sent during the run (to a private drain at /dev/log): ${Object.entries(r.syslog.counts).map(([k, v]) => `${k} ${n0(v)}`).join(', ') || 'none'}.`] : []),
    '',
    END,
  ].join('\n');
}

const HEADER = `# Benchmarks

\`npm run bench\` (\`scripts/bench.sh\`) runs whole PAM transactions through pam_permit and the Node floor (the floors),
pam_mapi with its file, zarafa and ldap stores, pam_mysql, pam_ldap with nslcd and pam_sss with sssd, against a private
MariaDB and slapd it fills and removes, and checks its figures against an outside-style harness; and pam_mapi's krb5
store beside Debian's pam_krb5 against one private KDC (at the least user count). \`npm run bench -- --quick\` is a smoke
run; \`--help\` lists the options. What was tried and what helped is in [bench/README.md](bench/README.md).

`;

export function writeReport(r: Results, file: string): void {
  const part = generated(r);
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const i = old.indexOf(BEGIN);
  const j = old.indexOf(END);
  const text = i >= 0 && j > i ? old.slice(0, i) + part + old.slice(j + END.length) : HEADER + part + '\n';
  fs.writeFileSync(file, text);
}

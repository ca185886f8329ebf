// The doctor's checks. Each returns rows of OK / WARN / FAIL with, for every problem, the
// command or edit that fixes it.
import fs from 'fs';
import path from 'path';
import { SYSTEM_MODULE_DIRS } from '../system/module-path';
import { DEFAULT_CONFIG_PATH, DEFAULT_SOCKET } from '../config/load';
import { checkModule } from '../pam/client';
import { WORKER_USER } from '../protocol/constants';
import { probeWorker, PROBE_USER } from '../protocol/probe';
import { storeContext } from '../stores/context';
import { KNOWN_FEATURES } from '../stores/features';
import { Config, loadConfig } from '../stores/registry';
import { withDeadline } from '../worker/deadline';
import { KNOWN_ARGUMENTS, parseModuleOptions } from '../worker/options';
import { ConfigError } from '../config/errors';
import { Logger } from '../log/logger';
import { loadBaseline, recordedAt, sha256 } from '../system/baseline';
import { isPamMapi, PamFile, PamLine, readPamDir, usesPamMapi } from '../system/pamd';
import { SystemRoot } from '../system/root';
import { ownerName, socketOwners, SocketOwners } from '../system/socket-owners';

export type Status = 'OK' | 'WARN' | 'FAIL';

export interface Row {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

const ok = (check: string, detail: string): Row => ({ check, status: 'OK', detail });
const warn = (check: string, detail: string, fix: string): Row => ({ check, status: 'WARN', detail, fix });
const fail = (check: string, detail: string, fix: string): Row => ({ check, status: 'FAIL', detail, fix });

export function checkConfig(root: SystemRoot, file: string): { rows: Row[]; config: Config | null } {
  const p = root.path(file);
  if (!fs.existsSync(p) && file === DEFAULT_CONFIG_PATH) {
    return { rows: [warn('config', `${p} does not exist: the worker uses its defaults (a file store at /etc/pam_mapi/users)`, `create ${file}; see pam_mapi.conf(5)`)], config: loadConfig(p, { optional: true }) };
  }
  try {
    const config = loadConfig(p);
    const stores = [...config.stores.entries()].map(([n, d]) => `${n || 'default'} (${d.type})`).join(', ');
    return { rows: [ok('config', `${p}: parsed; stores: ${stores}`)], config };
  } catch (e) {
    const message = (e as Error).message;
    const fix = (e instanceof ConfigError ? e.fix : undefined) ?? /(?:chmod|chown) [0-9a-z-]+ \S+/.exec(message)?.[0] ?? `edit ${p}; see pam_mapi.conf(5)`;
    return { rows: [fail('config', message, fix)], config: null };
  }
}

export async function checkWorker(config: Config, socketOverride?: string): Promise<Row[]> {
  // Paths named in the config are real paths, also under a test root.
  const socket = socketOverride ?? config.worker.socket;
  const rows: Row[] = [];
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socket);
  } catch {
    return [fail('worker', `no socket at ${socket}: the worker is not running, every login gets PAM_AUTHINFO_UNAVAIL`, 'systemctl enable --now pam-mapi-worker.socket (or start pam-mapi-worker)')];
  }
  if (!st.isSocket()) return [fail('worker', `${socket} is not a socket`, `remove ${socket} and restart pam-mapi-worker`)];
  // The module's rule (native/shim/channel.c): root's, or the worker's system user's.
  const owner = ownerName(st.uid, socketOwners([]));
  if (owner === null) rows.push(fail('worker socket', `${socket} is owned by uid ${st.uid}, neither root nor ${WORKER_USER}: pam_mapi.so refuses to talk to it`, `stop whatever created ${socket}; systemd, or the worker running as ${WORKER_USER} or root, must create it`));
  const mode = st.mode & 0o777;
  if (mode !== config.worker.socketMode) {
    rows.push(warn('worker socket', `${socket} has mode ${mode.toString(8).padStart(4, '0')}, the config says ${config.worker.socketMode.toString(8).padStart(4, '0')}`, 'make SocketMode= in pam-mapi-worker.socket and socket_mode in pam_mapi.conf agree'));
  } else if (owner !== null) {
    rows.push(ok('worker socket', `${socket}: ${owner}'s, mode ${mode.toString(8).padStart(4, '0')}`));
  }
  const answer = await probeWorker(socket, config.worker.storeTimeoutMs + 2000);
  if (answer.kind === 'unreachable') rows.push(fail('worker', `${socket}: ${answer.message}`, 'systemctl restart pam-mapi-worker (and see journalctl -u pam-mapi-worker)'));
  else if (answer.kind === 'error') rows.push(fail('worker', `the worker refused the probe: ${answer.text} (${answer.code})`, answer.code === 'PEER_REFUSED' ? 'run pam-mapi doctor as root, or add this uid to allowed_uids' : 'upgrade pam_mapi.so and pam-mapi-worker together'));
  else if (answer.result.startsWith('AUTHINFO_UNAVAIL')) rows.push(fail('worker', `the worker answers but cannot decide: ${answer.result}`, 'see the store rows below and journalctl -u pam-mapi-worker'));
  else rows.push(ok('worker', `answers on ${socket} in ${answer.ms.toFixed(1)} ms (probe user: ${answer.result})`));
  return rows;
}

export async function checkStores(config: Config): Promise<Row[]> {
  const rows: Row[] = [];
  let said: string[] = [];
  // What a store warns about while it opens and answers (tls_verify = no, ...).
  const logger: Logger = {
    log: (level, event, fields) => {
      if (level === 'error' || level === 'warning') said.push(`${event}: ${String(fields?.message ?? fields?.hint ?? JSON.stringify(fields))}`);
    },
  };
  for (const [name, def] of config.stores) {
    said = [];
    const label = `store ${name || 'default'} (${def.type})`;
    for (const line of def.origins) rows.push(ok(label, `configured: ${line}`));
    const started = process.hrtime.bigint();
    const findings: Row[] = [];
    let lookupMs = 0;
    try {
      const store = def.open(storeContext(logger, name, config.worker.storeTimeoutMs));
      try {
        await withDeadline(config.worker.storeTimeoutMs, (signal) => store.lookup(PROBE_USER, signal));
        lookupMs = Number(process.hrtime.bigint() - started) / 1e6;
        const diagnose = store.diagnose?.bind(store);
        if (diagnose !== undefined) {
          for (const d of await withDeadline(config.worker.storeTimeoutMs, diagnose)) {
            findings.push(d.status === 'OK' ? ok(label, d.what) : d.status === 'WARN' ? warn(label, d.what, d.fix) : fail(label, d.what, d.fix));
          }
        }
      } finally {
        await store.close();
      }
      rows.push(ok(label, `answered a lookup in ${lookupMs.toFixed(1)} ms`), ...findings);
      for (const w of said) rows.push(warn(label, w, `see pam_mapi.conf(5) for [store${name ? `.${name}` : ''}]`));
    } catch (e) {
      for (const w of said) rows.push(warn(label, w, `see pam_mapi.conf(5) for [store${name ? `.${name}` : ''}]`));
      rows.push(fail(label, (e as Error).message, def.doctorHint));
    }
  }
  return rows;
}

export function checkModuleInstalled(root: SystemRoot): Row[] {
  const candidates = SYSTEM_MODULE_DIRS.map((d) => root.path(d));
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'pam_unix.so')));
  if (dir === undefined) return [warn('module', 'no PAM module directory found (no pam_unix.so)', 'set the root right or install libpam-modules')];
  const file = path.join(dir, 'pam_mapi.so');
  if (!fs.existsSync(file)) return [fail('module', `${file} is missing: every stanza naming pam_mapi.so fails to load`, 'npm run install:system (or reinstall the package)')];
  const r = checkModule(file);
  if (!r.loaded) return [fail('module', `${file} does not load: ${r.error}`, 'reinstall pam_mapi.so built for this system')];
  if (r.missing.length > 0) return [fail('module', `${file} lacks ${r.missing.join(', ')}`, 'reinstall pam_mapi.so')];
  return [ok('module', `${file} loads and exports the PAM entry points`)];
}

/** What is wrong with one pam_mapi line, knowing what comes before it in its file. */
function checkLine(f: PamFile, line: PamLine, config: Config | null): Row[] {
  const where = `pam.d/${f.service}:${line.lineNo}`;
  const rows: Row[] = [];
  const o = parseModuleOptions(line.args);
  const edit = `edit ${f.path} line ${line.lineNo}`;
  const correction = (arg: string): string | null => o.corrections.find((c) => c.wrong === arg)?.right ?? null;
  const fixFor = (arg: string, otherwise: string): string => {
    const right = correction(arg);
    return right === null ? `${edit}: ${otherwise}` : `${edit}: did you mean ${right}? write "${right}" instead of "${arg}"`;
  };
  for (const u of o.unknown) rows.push(warn(where, `unknown argument "${u}" (ignored)`, fixFor(u, `remove "${u}"; see pam_mapi(8)`)));
  for (const i of o.invalid) rows.push(warn(where, `invalid value "${i}" (ignored)`, edit));
  for (const x of o.fatal) {
    // The fatal problems of a line name the argument they come from first.
    const arg = o.corrections.find((c) => x.includes(`"${c.wrong}"`) || x.startsWith(`${c.wrong}:`))?.wrong;
    rows.push(fail(where, `every login through this line fails: ${x}`, arg === undefined ? `${edit}; see pam_mapi(8) (features: ${KNOWN_FEATURES.join(' ')})` : fixFor(arg, `see pam_mapi(8) (arguments: ${KNOWN_ARGUMENTS.join(' ')}; features: ${KNOWN_FEATURES.join(' ')})`)));
  }
  if (config !== null && !config.stores.has(o.store)) {
    rows.push(o.store === ''
      ? fail(where, `no store=, and ${config.file} has no [store] section: every login through this line fails`, `${edit}: add store=NAME, or add a [store] section`)
      : fail(where, `store=${o.store}: no [store.${o.store}] in ${config.file}`, `${edit}, or add [store.${o.store}]`));
  }
  if (o.legacySocket !== null && /^(file:|\/)/.test(o.legacySocket)) {
    rows.push(warn(where, `socket=${o.legacySocket} points at a Unix socket: the original pam_mapi then let everyone in as root (an open relay); pam_mapi ignores it`, `${edit}: remove socket=`));
  }
  if (line.type === 'auth') {
    const before = f.lines.filter((l) => l.type === 'auth' && l.lineNo < line.lineNo);
    if (o.useFirstPass && before.length === 0 && f.includes.length === 0) {
      rows.push(fail(where, 'use_first_pass on the first auth module: no earlier module obtains a password, so this line always fails', `${edit}: use try_first_pass`));
    }
    for (const b of before) {
      const mod = path.basename(b.module);
      if (mod === 'pam_deny.so' && (b.control === 'required' || b.control === 'requisite')) {
        rows.push(fail(where, `pam_deny.so (${b.control}) at line ${b.lineNo} comes first: this stack can never succeed`, `edit ${f.path}: remove or move line ${b.lineNo}`));
      }
      if (mod === 'pam_permit.so' && b.control === 'sufficient') {
        rows.push(fail(where, `pam_permit.so (sufficient) at line ${b.lineNo} lets everyone in before pam_mapi runs`, `edit ${f.path}: remove line ${b.lineNo}`));
      }
    }
  }
  if (rows.length === 0) rows.push(ok(where, `${line.type} ${line.control} pam_mapi.so ${line.args.join(' ')}`.trim()));
  return rows;
}

export function checkPamFiles(root: SystemRoot, config: Config | null): Row[] {
  const files = readPamDir(root.pamDir);
  const users = files.filter(usesPamMapi);
  const rows: Row[] = [];
  for (const f of users) for (const l of f.lines.filter((x) => isPamMapi(x.module))) rows.push(...checkLine(f, l, config));

  const baseline = loadBaseline(root);
  if (baseline === null) {
    if (users.length === 0) rows.push(warn('pam.d', `no file in ${root.pamDir} uses pam_mapi: mail logins never reach it`, 'install a stanza (see /usr/share/doc/pam-mapi/pam.d-examples), then pam-mapi doctor --save-baseline'));
    rows.push(warn('pam.d baseline', 'no baseline saved: a deleted or changed stanza cannot be noticed', 'pam-mapi doctor --save-baseline'));
    return rows;
  }
  for (const [service, entry] of Object.entries(baseline.services)) {
    const file = path.join(root.pamDir, service);
    const check = `pam.d/${service}`;
    const since = recordedAt(baseline, service);
    if (!fs.existsSync(file)) {
      rows.push(fail(check, `${file} is gone (it used pam_mapi when the baseline recorded it, ${since}): logins for ${service} no longer reach pam_mapi (removed on purpose? pam-mapi doctor --forget ${service})`, `pam-mapi doctor --restore ${service}`));
      continue;
    }
    const bytes = fs.readFileSync(file);
    if (sha256(bytes) === entry.sha256) continue;
    const now = files.find((f) => f.service === service);
    if (now === undefined || !usesPamMapi(now)) rows.push(fail(check, `${file} no longer uses pam_mapi (changed since ${since})`, `pam-mapi doctor --restore ${service} (the current file is kept beside it; if intended: pam-mapi doctor --forget ${service})`));
    else rows.push(warn(check, `${file} changed since the baseline recorded it (${since})`, `if intended: pam-mapi doctor --save-baseline ${service}; if not: pam-mapi doctor --restore ${service}`));
  }
  // A stanza nobody recorded: deleted or rewritten by the next upgrade, it would go unnoticed.
  for (const f of users.filter((u) => baseline.services[u.service] === undefined)) {
    rows.push(warn(`pam.d/${f.service}`, `${f.path} uses pam_mapi but is not in the baseline: if an upgrade deletes or rewrites it, nothing notices`, 'pam-mapi doctor --save-baseline'));
  }
  if (users.length === 0 && Object.keys(baseline.services).length === 0) {
    rows.push(warn('pam.d', `no file in ${root.pamDir} uses pam_mapi: mail logins never reach it`, 'install a stanza, then pam-mapi doctor --save-baseline'));
  }
  return rows;
}

/** Every worker= socket a stanza names, other than the one already checked: a path that points
 * nowhere, or at a worker that does not answer, fails every login through those lines. */
export async function checkStanzaWorkers(root: SystemRoot, config: Config | null, checked: string | null): Promise<Row[]> {
  const users = new Map<string, string[]>();
  const owners = new Map<string, SocketOwners>();
  for (const f of readPamDir(root.pamDir).filter(usesPamMapi)) {
    for (const l of f.lines.filter((x) => isPamMapi(x.module))) {
      // The shim takes the last non-empty worker= of a line, as it reads the arguments in order.
      const named = l.args.filter((a) => a.startsWith('worker=') && a !== 'worker=').map((a) => a.slice('worker='.length)).pop();
      if (named === undefined || named === '' || named === checked) continue;
      users.set(named, [...(users.get(named) ?? []), `pam.d/${f.service}:${l.lineNo}`]);
      owners.set(`${named}\0pam.d/${f.service}:${l.lineNo}`, socketOwners(l.args));
    }
  }
  const rows: Row[] = [];
  for (const [socket, lines] of users) {
    const check = `worker=${socket}`;
    const where = `named by ${lines.join(', ')}`;
    const edit = `edit ${lines.join(', ')}: worker=${config?.worker.socket ?? DEFAULT_SOCKET} (the socket in ${config?.file ?? DEFAULT_CONFIG_PATH}), or start the worker that listens on ${socket}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(socket);
    } catch {
      rows.push(fail(check, `${socket} (${where}) does not exist: every login through these lines gets PAM_AUTHINFO_UNAVAIL`, edit));
      continue;
    }
    if (!st.isSocket()) {
      rows.push(fail(check, `${socket} (${where}) is not a socket: every login through these lines gets PAM_AUTHINFO_UNAVAIL`, edit));
      continue;
    }
    // Each line's own rule: its worker_user=, else pam-mapi.
    const refusing = lines.filter((line) => ownerName(st.uid, owners.get(`${socket}\0${line}`) ?? socketOwners([])) === null);
    if (refusing.length > 0) {
      rows.push(fail(check, `${socket} (named by ${refusing.join(', ')}) is owned by uid ${st.uid}, neither root nor the line's worker user: pam_mapi.so refuses to talk to it`, `stop whatever created ${socket}; systemd, or the worker running as root or its own user (worker_user=, default ${WORKER_USER}), must create it`));
      continue;
    }
    const answer = await probeWorker(socket, (config?.worker.storeTimeoutMs ?? 5000) + 2000);
    if (answer.kind === 'unreachable') rows.push(fail(check, `no worker answers on ${socket} (${where}): ${answer.message}`, `start the worker that listens on ${socket}, or ${edit.slice('edit '.length)}`));
    else if (answer.kind === 'error') rows.push(fail(check, `the worker on ${socket} (${where}) refused the probe: ${answer.text} (${answer.code})`, answer.code === 'PEER_REFUSED' ? 'run pam-mapi doctor as root, or add this uid to allowed_uids' : 'upgrade pam_mapi.so and pam-mapi-worker together'));
    else if (answer.result.startsWith('AUTHINFO_UNAVAIL')) rows.push(fail(check, `the worker on ${socket} (${where}) answers but cannot decide: ${answer.result}`, 'see that worker\'s log'));
    else rows.push(ok(check, `a worker answers (${where}) in ${answer.ms.toFixed(1)} ms`));
  }
  return rows;
}

// pam-mapi check USER [--service S] [--store NAME] [--pam PAMSERVICE] [--pam-dir DIR] [--worker SOCKET]
// Without --pam it asks the worker through the module with a one-off stanza; with --pam it runs
// the whole PAM transaction (auth, then account) through /etc/pam.d/PAMSERVICE, exactly what
// saslauthd or Dovecot will do. Run as root, it also prints the module's reason, heard by a
// relay between the module and the worker (reason-relay.ts), and says when libpam fell back to
// `other`. Exit 0 only on success.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DEFAULT_CONFIG_PATH, DEFAULT_SOCKET, readConfig } from '../config/load';
import { runPamTransaction } from '../pam/client';
import { socketOwners } from '../system/socket-owners';
import { copyStack, RelayFor, writeOneOffStack } from './check-stack';
import { findModule } from '../system/module-path';
import { Heard, ReasonRelay } from './reason-relay';
import { readSecret } from './read-secret';

interface CheckArgs {
  user: string;
  service?: string;
  store?: string;
  pam?: string;
  pamDir?: string;
  worker?: string;
  config: string;
}

export function parseCheckArgs(args: string[]): CheckArgs | string {
  let user: string | undefined;
  const out: Partial<CheckArgs> = { config: DEFAULT_CONFIG_PATH };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const take = (): string | undefined => args[++i];
    if (a === '--service') out.service = take();
    else if (a === '--store') out.store = take();
    else if (a === '--pam') out.pam = take();
    else if (a === '--pam-dir') out.pamDir = take();
    else if (a === '--worker') out.worker = take();
    else if (a === '--config') out.config = take();
    else if (a.startsWith('--')) return `unknown option ${a}`;
    else if (user === undefined) user = a;
    else return `unexpected argument ${a}`;
    if (a.startsWith('--') && args[i] === undefined) return `${a} needs a value`;
  }
  if (user === undefined) return 'a user name is required';
  if (out.pam !== undefined && (out.service !== undefined || out.store !== undefined || out.worker !== undefined)) {
    return '--service, --store and --worker belong to the stanza; with --pam the stanza in pam.d decides';
  }
  if (out.pam === undefined && out.pamDir !== undefined) return '--pam-dir goes with --pam';
  return { ...out, user } as CheckArgs;
}

function workerSocket(args: CheckArgs): string {
  if (args.worker) return args.worker;
  try {
    // Only [worker] is read: no store is opened here, so no secret key is read either (the
    // worker and the doctor refuse a config that exposes one).
    return readConfig(args.config, { optional: true, secretKeys: [] }).worker.socket;
  } catch (e) {
    process.stderr.write(`pam-mapi check: ${(e as Error).message}; trying the default socket ${DEFAULT_SOCKET}\n`);
    return DEFAULT_SOCKET;
  }
}

/** The lines worth showing from what the worker told the module to log: what it logs without
 * `debug`, and, of the step-by-step debug lines, the one that gives a refusal and its reason. */
function reasons(heard: readonly Heard[]): Heard[] {
  return heard.filter((h) => h.level !== 'DEBUG' || (/^(authenticate|account): [A-Z_]+ \(/.test(h.text) && !/^[a-z]+: SUCCESS /.test(h.text)));
}

export async function checkCommand(argv: string[]): Promise<number> {
  const args = parseCheckArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`pam-mapi check: ${args}\nusage: pam-mapi check USER [--service FEATURE] [--store NAME] [--worker SOCKET] [--config FILE]\n       pam-mapi check USER --pam PAMSERVICE [--pam-dir DIR]\n`);
    return 2;
  }
  const service = args.pam ?? 'pam-mapi-check';
  // The module talks only to a socket owned by root or the worker's user, so only root's check
  // can stand between the module and the worker to hear its reason.
  const relaying = process.getuid?.() === 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pam-mapi-check-'));
  // One relay per worker socket and the user the line lets serve it (worker_user=).
  const relayTargets = new Map<string, { at: string; target: string; trusted: number[] }>();
  const relayFor: RelayFor = (target, lineArgs) => {
    // The module's rule, never a looser one: the password goes where the module would send it.
    const trusted = socketOwners(lineArgs).uids;
    const key = `${target}\0${trusted.join(',')}`;
    const known = relayTargets.get(key);
    if (known !== undefined) return known.at;
    const at = path.join(tmp, `relay-${relayTargets.size}.sock`);
    relayTargets.set(key, { at, target, trusted });
    return at;
  };
  const relays: ReasonRelay[] = [];
  let confDir: string | null;
  const notes: string[] = [];
  if (args.pam === undefined) {
    // A one-off stanza in a private directory: nothing under /etc is written.
    const target = workerSocket(args);
    const opts = [args.service ? `service=${args.service}` : '', args.store ? `store=${args.store}` : '', ...(relaying ? ['debug', `worker=${relayFor(target, [])}`] : [`worker=${target}`])].filter((s) => s !== '');
    confDir = path.join(tmp, 'pam.d');
    writeOneOffStack(confDir, service, findModule(), opts);
  } else {
    const from = args.pamDir ?? '/etc/pam.d';
    // libpam does not say it fell back: a missing service file runs `other` in silence.
    if (!fs.existsSync(path.join(from, args.pam))) {
      notes.push(fs.existsSync(path.join(from, 'other'))
        ? `${path.join(from, args.pam)} does not exist: libpam used ${path.join(from, 'other')} instead`
        : `${path.join(from, args.pam)} does not exist, nor does ${path.join(from, 'other')}: libpam has no module to run`);
    }
    if (relaying) {
      confDir = path.join(tmp, 'pam.d');
      copyStack(from, confDir, relayFor);
    } else {
      confDir = args.pamDir ?? null;
    }
  }
  const secret = await readSecret('Password: ');
  try {
    for (const { at, target, trusted } of relayTargets.values()) relays.push(await ReasonRelay.start(path.dirname(at), path.basename(at), target, trusted));
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    const r = await runPamTransaction({ service, user: args.user, confDir, answers: [secret.toString('utf8')], steps: ['authenticate', 'acct_mgmt'], recordFailDelay: true });
    if (r.startName !== 'PAM_SUCCESS') {
      process.stdout.write(`pam_start(${service}) failed: ${r.startName} (${r.startText})\n`);
      return 1;
    }
    for (const s of r.steps) process.stdout.write(`${s.step.padEnd(12)} ${s.name} (${s.text})\n`);
    if (relaying) {
      const heard = reasons(relays.flatMap((x) => x.heard));
      for (const h of heard) {
        if (h.own === true) process.stdout.write(`note: ${h.text}\n`);
        else process.stdout.write(h.level === 'DEBUG' ? `${'reason'.padEnd(12)} ${h.text}\n` : `${'module log'.padEnd(12)} ${h.level.toLowerCase()}: ${h.text}\n`);
      }
      if (relays.every((x) => x.connections === 0)) process.stdout.write(`note: pam_mapi was not asked: no pam_mapi line of ${service}'s stack ran\n`);
    } else {
      process.stdout.write('note: the module\'s reason is shown only to root (it logs to syslog, authpriv)\n');
    }
    const last = r.steps[r.steps.length - 1];
    const ok = r.steps.length === 2 && last.name === 'PAM_SUCCESS';
    process.stdout.write(ok ? `${args.user}: accepted\n` : `${args.user}: refused (${last?.name ?? 'no step ran'})\n`);
    return ok ? 0 : 1;
  } finally {
    secret.fill(0);
    await Promise.all(relays.map((x) => x.close()));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

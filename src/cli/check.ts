// pam-mapi check USER [--service S] [--store NAME] [--pam PAMSERVICE] [--pam-dir DIR] [--worker SOCKET]
// Without --pam it asks the worker through the module with a one-off stanza; with --pam it runs
// the whole PAM transaction (auth, then account) through /etc/pam.d/PAMSERVICE, exactly what
// saslauthd or Dovecot will do. Exit 0 only on success.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DEFAULT_CONFIG_PATH, DEFAULT_SOCKET, readConfig } from '../config/load';
import { runPamTransaction } from '../pam/client';
import { findModule } from '../system/module-path';
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

export async function checkCommand(argv: string[]): Promise<number> {
  const args = parseCheckArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`pam-mapi check: ${args}\nusage: pam-mapi check USER [--service FEATURE] [--store NAME] [--worker SOCKET] [--config FILE]\n       pam-mapi check USER --pam PAMSERVICE [--pam-dir DIR]\n`);
    return 2;
  }
  let confDir = args.pamDir ?? null;
  let service = args.pam ?? 'pam-mapi-check';
  let tmp: string | undefined;
  if (args.pam === undefined) {
    // A one-off stanza in a private directory: nothing under /etc is written.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pam-mapi-check-'));
    const opts = [`worker=${workerSocket(args)}`, args.service ? `service=${args.service}` : '', args.store ? `store=${args.store}` : ''].filter((s) => s !== '').join(' ');
    fs.writeFileSync(path.join(tmp, service), `auth required ${findModule()} ${opts}\naccount required ${findModule()} ${opts}\n`);
    confDir = tmp;
  }
  const secret = await readSecret('Password: ');
  try {
    const r = await runPamTransaction({ service, user: args.user, confDir, answers: [secret.toString('utf8')], steps: ['authenticate', 'acct_mgmt'], recordFailDelay: true });
    if (r.startName !== 'PAM_SUCCESS') {
      process.stdout.write(`pam_start(${service}) failed: ${r.startName} (${r.startText})\n`);
      return 1;
    }
    for (const s of r.steps) process.stdout.write(`${s.step.padEnd(12)} ${s.name} (${s.text})\n`);
    const last = r.steps[r.steps.length - 1];
    const ok = r.steps.length === 2 && last.name === 'PAM_SUCCESS';
    process.stdout.write(ok ? `${args.user}: accepted\n` : `${args.user}: refused (${last?.name ?? 'no step ran'})\n`);
    return ok ? 0 : 1;
  } finally {
    secret.fill(0);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// pam-mapi explain USER [--service FEATURES] [--store NAME] [--rhost ADDRESS] [--password]
//                       [--config FILE]
// Runs the worker's own decision (decide() in src/worker/policy.ts, with `debug`) in this
// process against the configured stores, and prints each step with its time: the config and
// the store chosen, the throttle's rules for the address, every store call, the policy's steps
// and the outcome. Without --password it runs the account check (the user, the account state,
// the features): no password is needed. With --password it reads one (no echo, or a line of
// standard input) and runs the authentication. The password is never printed, nor its length.
// The throttle's counts live in the running worker's memory; they are shown from its metrics
// socket when there is one. Exit 0 when the outcome is PAM_SUCCESS, 1 otherwise, 2 on usage.
import net from 'net';
import { StderrLogger } from '../log/logger';
import { PamRequest } from '../protocol/messages';
import { storeContext } from '../stores/context';
import { loadConfig } from '../stores/registry';
import { Lookup, passwordVerdict, Store, Verification } from '../stores/store';
import { DEFAULT_CONFIG_PATH } from '../config/load';
import { decide } from '../worker/policy';
import { clientAddress } from '../worker/throttle-address';
import { readSecret } from './read-secret';

interface ExplainArgs {
  user: string;
  service?: string;
  store?: string;
  rhost: string;
  password: boolean;
  config: string;
}

export function parseExplainArgs(args: string[]): ExplainArgs | string {
  let user: string | undefined;
  const out: Partial<ExplainArgs> = { config: DEFAULT_CONFIG_PATH, rhost: '', password: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--password') { out.password = true; continue; }
    if (['--service', '--store', '--rhost', '--config'].includes(a)) {
      const v = args[++i];
      if (v === undefined) return `${a} needs a value`;
      if (a === '--service') out.service = v;
      else if (a === '--store') out.store = v;
      else if (a === '--rhost') out.rhost = v;
      else out.config = v;
    } else if (a.startsWith('--')) return `unknown option ${a}`;
    else if (user === undefined) user = a;
    else return `unexpected argument ${a}`;
  }
  if (user === undefined) return 'a user name is required';
  return { ...out, user } as ExplainArgs;
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(2)} ms`;

/** A store that reports each call and its time before answering as the real one did. */
function timed(store: Store, say: (s: string) => void): Store {
  return {
    type: store.type,
    defaultDisabledFeatures: store.defaultDisabledFeatures,
    async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
      const t0 = performance.now();
      try {
        const r = await store.lookup(login, signal);
        say(`store ${store.type}: lookup: ${r.found ? `found ${r.user.login}, account ${r.user.state}, features on: ${r.user.features.enabled.join(' ') || '-'}, off: ${r.user.features.disabled.join(' ') || '-'}` : 'not found'} (${ms(t0)})`);
        return r;
      } catch (e) {
        say(`store ${store.type}: lookup failed: ${(e as Error).message} (${ms(t0)})`);
        throw e;
      }
    },
    async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
      const t0 = performance.now();
      try {
        const r = await store.verify(login, password, signal);
        say(`store ${store.type}: password check: ${r.found ? `found ${r.user.login}, password ${passwordVerdict(r.passwordOk)}, account ${r.user.state}` : 'not found'} (${ms(t0)})`);
        return r;
      } catch (e) {
        say(`store ${store.type}: password check failed: ${(e as Error).message} (${ms(t0)})`);
        throw e;
      }
    },
    close: () => store.close(),
  };
}

function workerThrottleTotals(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect(socketPath);
    sock.setTimeout(2000, () => { sock.destroy(); resolve('the worker did not answer'); });
    sock.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    sock.on('end', () => {
      const pick = (name: string): string => /^(\S+) (\S+)$/m.exec(text.split('\n').filter((l) => l.startsWith(`${name} `))[0] ?? '')?.[2] ?? '-';
      resolve(`the worker has refused ${pick('pam_mapi_throttle_refused_total')} and delayed ${pick('pam_mapi_throttle_delayed_total')} since it started`);
    });
    sock.on('error', (e) => resolve(`cannot read the worker's numbers: ${e.message}`));
  });
}

export async function explainCommand(args: string[]): Promise<number> {
  const a = parseExplainArgs(args);
  if (typeof a === 'string') {
    process.stderr.write(`pam-mapi explain: ${a}\nusage: pam-mapi explain USER [--service FEATURES] [--store NAME] [--rhost ADDRESS] [--password] [--config FILE]\n`);
    return 2;
  }
  const say = (s: string): void => { process.stdout.write(`${s}\n`); };
  const t0 = performance.now();
  let config;
  try {
    config = loadConfig(a.config, { optional: true });
  } catch (e) {
    say(`config ${a.config}: ${(e as Error).message}`);
    say('outcome: PAM_AUTHINFO_UNAVAIL (the worker refuses to start with this config)');
    return 1;
  }
  say(`config ${config.file}: read (${ms(t0)}); stores: ${[...config.stores.keys()].map((n) => n || 'default').join(', ')}`);

  const th = config.throttle;
  const addr = clientAddress(a.rhost);
  const inList = (list: typeof th.deny): boolean => addr?.ip != null && addr.family !== null
    && list.some((c) => { const b = new net.BlockList(); b.addSubnet(c.address, c.prefix, c.family); return b.check(addr.ip as string, addr.family as 'ipv4' | 'ipv6'); });
  const throttleLine = addr === null ? 'no client address: counted per name and per name-and-address only'
    : inList(th.deny) ? `${a.rhost} is on the deny list: refused (PAM_MAXTRIES) before the password is checked`
      : inList(th.trustedNetworks) ? `${a.rhost} is in trusted_networks: never counted, delayed or refused`
        : `${a.rhost} counts as ${addr.key}`;
  say(`throttle: ${th.enabled ? 'on' : 'off'}; ${throttleLine}; delay after ${th.delayAfter} failures, refusal at ${th.refuseAfter} (a name from anywhere: ${th.userRefuseAfter})`);
  if (config.worker.metricsSocket !== null) say(`throttle: ${await workerThrottleTotals(config.worker.metricsSocket)}; the counts per key are in the worker's memory only`);

  const logger = new StderrLogger(false);
  const stores = new Map<string, Store>();
  for (const [name, def] of config.stores) {
    const t1 = performance.now();
    try {
      stores.set(name, timed(def.open(storeContext(logger, name, config.worker.storeTimeoutMs)), say));
    } catch (e) {
      say(`store ${name || 'default'}: cannot open: ${(e as Error).message} (${ms(t1)})`);
    }
  }
  let secret: Buffer | null = null;
  if (a.password) secret = await readSecret('Password: ');
  const line = ['debug', 'use_first_pass', ...(a.service ? [`service=${a.service}`] : []), ...(a.store ? [`store=${a.store}`] : [])];
  const req: PamRequest = {
    op: a.password ? 'authenticate' : 'account', service: 'pam-mapi-explain', user: Buffer.from(a.user, 'utf8'), rhost: a.rhost,
    ruser: '', tty: '', logname: '', uid: null, euid: null, args: line, argsTruncated: false,
    // As an earlier module's PAM_AUTHTOK under use_first_pass, the way the module would send it.
    password: secret === null ? null : { kind: 'ok', from: 'earlier', secret },
  };
  say(`policy: ${req.op} for ${JSON.stringify(a.user)} with ${line.filter((x) => x !== 'debug').join(' ')}${a.password ? '' : ' (no password: the account rules and features only)'}`);
  const t2 = performance.now();
  try {
    const outcome = await decide(req, { stores, storeTimeoutMs: config.worker.storeTimeoutMs, configFile: config.file, accountReuseMs: 0 });
    for (const l of outcome.logs) say(`policy: ${l.level.toLowerCase()}: ${l.text}`);
    say(`outcome: PAM_${outcome.result} (${outcome.reason}; store ${outcome.store}; ${ms(t2)} in the policy, ${ms(t0)} in all)`);
    return outcome.result === 'SUCCESS' ? 0 : 1;
  } finally {
    secret?.fill(0);
    await Promise.allSettled([...stores.values()].map((s) => s.close()));
  }
}

// The command line of pam-mapi-worker. Its socket is --worker PATH, the spelling of pam-mapi's
// commands and of the module's worker= argument; --socket PATH, its first spelling, stays an
// alias so existing units and scripts keep working. In the foreground by default (systemd);
// --daemon for other inits (daemon.ts).
import { DEFAULT_CONFIG_PATH } from '../config/load';

export interface WorkerArgs {
  config: string;
  /** A config named on the command line must exist; the default one may be missing. */
  configGiven: boolean;
  socket?: string;
  debug: boolean;
  daemon: boolean;
  pidFile?: string;
  /** Where a daemon's standard error goes (only with --daemon). */
  logFile?: string;
}

export type ParsedWorkerArgs = { kind: 'run'; args: WorkerArgs } | { kind: 'help' } | { kind: 'usage'; problem: string };

export const WORKER_USAGE = 'usage: pam-mapi-worker [--config FILE] [--worker PATH] [--debug] [--daemon [--log-file FILE]] [--pid-file FILE]\n';

const WITH_VALUE = ['--config', '--worker', '--socket', '--pid-file', '--log-file'];

export function parseWorkerArgs(argv: readonly string[]): ParsedWorkerArgs {
  const args: WorkerArgs = { config: DEFAULT_CONFIG_PATH, configGiven: false, debug: false, daemon: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.includes(a)) {
      const v = argv[++i];
      if (v === undefined) return { kind: 'usage', problem: `${a} needs a value` };
      if (a === '--config') {
        args.config = v;
        args.configGiven = true;
      } else if (a === '--pid-file') args.pidFile = v;
      else if (a === '--log-file') args.logFile = v;
      else args.socket = v;
    } else if (a === '--debug') args.debug = true;
    else if (a === '--daemon') args.daemon = true;
    else if (a === '--help' || a === '-h') return { kind: 'help' };
    else return { kind: 'usage', problem: `unknown argument ${a}` };
  }
  if (args.logFile !== undefined && !args.daemon) return { kind: 'usage', problem: '--log-file goes with --daemon' };
  return { kind: 'run', args };
}

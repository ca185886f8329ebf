#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=30
// pam-mapi-worker: serves the PAM module's requests. Usage:
//   pam-mapi-worker [--config /etc/pam_mapi.conf] [--worker PATH] [--debug]
//                   [--daemon [--log-file FILE]] [--pid-file FILE]              (args.ts)
// In the foreground by default (systemd); --daemon for other inits (daemon.ts).
// The #! line carries the Node.js flags of node-flags.ts (env -S splits them).
// SIGHUP reloads the config (a broken one is refused and the old one keeps serving);
// SIGTERM and SIGINT stop it.
import fs from 'fs';
import net from 'net';
import { Logger } from '../log/logger';
import { QueuedLogger } from '../log/queued-logger';
import { reportPamDrift } from '../system/pamd-watch';
import { SystemRoot } from '../system/root';
import { storeContext } from '../stores/context';
import { Config, loadConfig } from '../stores/registry';
import { Store } from '../stores/store';
import { parseWorkerArgs, WORKER_USAGE, WorkerArgs } from './args';
import { PolicyContext } from './policy';
import { listen } from './server';
import { serveConnection, SessionEnv } from './session';
import { KeptConnections } from './kept-connections';
import { ConnectionCaps, ConnectionLimits, effectiveCaps, openFileLimit } from './connection-limits';
import { setNonDumpable } from './peer';
import { QuietEvent } from '../log/quiet-event';
import { detach, isDetachedCopy, StartupRelay, writePidFile } from './daemon';
import { openResilience, StoreResilience } from './resilience';
import { closeOfflineCaches } from './offline-cache';
import { Throttle } from './throttle';
import { AccountingLog } from './accounting';
import { Metrics } from './metrics';
import { serveMetrics } from './metrics-server';

function parseArgs(argv: string[]): WorkerArgs {
  const parsed = parseWorkerArgs(argv);
  if (parsed.kind === 'run') return parsed.args;
  if (parsed.kind === 'usage') process.stderr.write(`pam-mapi-worker: ${parsed.problem}\n`);
  process.stderr.write(WORKER_USAGE);
  process.exit(parsed.kind === 'usage' ? 2 : 0);
}

/** What outlives a reload: the one throttle (a reload changes its settings, not its counts), the
 * open-file limit read at start, and what every connection shares whatever the config. */
interface Lasting {
  throttle: Throttle;
  fileLimit: number | undefined;
  shared: Omit<SessionEnv, 'allowedUids' | 'allowedGids' | 'clientTimeoutMs'>;
}

class Generation {
  // What a generation's requests and connections read, made once: every request asks for the
  // policy context, every connection for the session's settings and (twice) the caps.
  readonly policy: PolicyContext;
  readonly caps: ConnectionCaps & { lowered: boolean };
  readonly session: SessionEnv;

  private constructor(
    readonly config: Config,
    readonly stores: Map<string, Store>,
    readonly resilience: StoreResilience,
    lasting: Lasting,
  ) {
    const w = config.worker;
    this.policy = { stores, storeTimeoutMs: w.storeTimeoutMs, configFile: config.file, accountReuseMs: w.accountReuseMs, resilience, throttle: lasting.throttle };
    this.caps = effectiveCaps({ maxConnections: w.maxConnections, maxPerUid: w.maxConnectionsPerUid }, lasting.fileLimit);
    this.session = { ...lasting.shared, allowedUids: w.allowedUids, allowedGids: w.allowedGids, clientTimeoutMs: w.clientTimeoutMs };
  }

  static open(config: Config, logger: Logger, lasting: Lasting): Generation {
    const stores = new Map<string, Store>();
    try {
      for (const [name, def] of config.stores) stores.set(name, def.open(storeContext(logger, name, config.worker.storeTimeoutMs)));
    } catch (e) {
      for (const s of stores.values()) void s.close();
      throw e;
    }
    return new Generation(config, stores, openResilience(config, stores, logger), lasting);
  }

  async close(): Promise<void> {
    this.resilience.stop();
    await Promise.allSettled([...this.stores.values()].map((s) => s.close()));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.daemon && !isDetachedCopy()) process.exit(await detach(args.logFile));
  const logger = new StartupRelay(new QueuedLogger(args.debug));
  // Before the config is read: from here on the heap holds store passwords and users'
  // passwords, which no core file and no ptrace by the worker's own uid may reach.
  try {
    setNonDumpable();
  } catch (e) {
    logger.log('error', 'start.failed', { message: (e as Error).message });
    process.exit(1);
  }
  const load = (): Config => loadConfig(args.config, { optional: !args.configGiven });
  const invalid = (e: unknown): never => {
    logger.log('error', 'config.invalid', { message: (e as Error).message });
    process.exit(1);
  };
  let config: Config;
  try {
    config = load();
  } catch (e) {
    return invalid(e);
  }
  const settings = config.worker;
  // One throttle for the life of the process: a reload changes its settings, not its counts.
  const throttle = new Throttle(config.throttle);
  const accounting = new AccountingLog(settings.accountingLog, logger);
  const metrics = new Metrics(throttle);
  const socketPath = args.socket ?? settings.socket;

  let inFlight = 0;
  const kept = new KeptConnections();
  // The file limit is read once: Node raises the soft limit to the hard one at start.
  const fileLimit = openFileLimit();
  let current: Generation;
  let lowered = false;
  const caps = (): ConnectionCaps => {
    const e = current.caps;
    if (e.lowered && !lowered) {
      lowered = true;
      logger.log('warning', 'connections.lowered', { max_connections: e.maxConnections, configured: current.config.worker.maxConnections, open_files: fileLimit });
    }
    return e;
  };
  const limits = new ConnectionLimits(caps, logger);
  const refused = new QuietEvent(logger, 'warning', 'peer.refused');
  let connections = 0;
  const shared = {
    logger,
    debug: args.debug,
    limits,
    refused,
    // Looked up per request: a request that comes after a reload, the account request on a
    // kept connection too, is answered by the new generation.
    policy: (): PolicyContext => current.policy,
    kept,
    accounting,
    metrics,
  };
  const lasting: Lasting = { throttle, fileLimit, shared };
  try {
    current = Generation.open(config, logger, lasting);
  } catch (e) {
    return invalid(e);
  }
  caps(); // says at start when the open-file limit lowers max_connections
  const server = net.createServer((socket) => {
    inFlight++;
    void serveConnection(socket, current.session, ++connections).finally(() => { inFlight--; });
  });
  let where: string;
  try {
    where = await listen(server, socketPath, settings.socketMode, settings.socketGroup);
  } catch (e) {
    logger.log('error', 'listen.failed', { socket: socketPath, message: (e as Error).message });
    process.exit(1);
  }
  if (args.pidFile !== undefined) {
    try {
      writePidFile(args.pidFile);
    } catch (e) {
      logger.log('error', 'pidfile.failed', { file: args.pidFile, message: (e as Error).message });
      server.close();
      process.exit(1);
    }
  }
  // Like socket, read at start only. A metrics socket that cannot be made is reported; the
  // worker serves logins all the same.
  const metricsPath = settings.metricsSocket;
  if (metricsPath !== null) {
    try {
      const ms = await serveMetrics(metricsPath, metrics, logger);
      process.once('exit', () => { ms.close(); try { fs.unlinkSync(metricsPath); } catch { /* gone */ } });
    } catch (e) {
      logger.log('error', 'metrics.failed', { socket: metricsPath, message: (e as Error).message });
    }
  }
  reportPamDrift(new SystemRoot(), logger);
  logger.log('notice', 'listening', { socket: where, config: current.config.file, stores: [...current.stores.keys()].map((n) => n || 'default').join(',') });
  logger.ready();

  process.on('SIGHUP', () => {
    let next: Generation;
    try {
      next = Generation.open(load(), logger, lasting);
    } catch (e) {
      logger.log('error', 'reload.refused', { message: (e as Error).message, keeping: current.config.file });
      // logrotate's SIGHUP must reopen the log even when the config cannot be reloaded.
      accounting.reopen(current.config.worker.accountingLog);
      return;
    }
    accounting.reopen(next.config.worker.accountingLog);
    const old = current;
    current = next;
    throttle.configure(next.config.throttle);
    logger.log('notice', 'reloaded', { config: next.config.file });
    // Requests already running finish with the stores they started with.
    setTimeout(() => void old.close(), 60_000).unref();
  });
  // Stop taking connections (under systemd they wait in the socket for the next worker), let
  // the requests already here finish, then close the stores.
  const stop = (signal: string): void => {
    logger.log('notice', 'stopping', { signal, in_flight: inFlight });
    server.close();
    kept.stop();
    const until = Date.now() + current.config.worker.storeTimeoutMs + 1000;
    const finish = (): void => {
      if (inFlight > 0 && Date.now() < until) {
        setTimeout(finish, 20);
        return;
      }
      void current.close().then(closeOfflineCaches).then(() => process.exit(0));
    };
    finish();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();

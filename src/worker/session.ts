// One module connection, from the peer check to the RESULT frame. Anything that goes wrong
// ends in an ERROR frame or a closed socket, which the module turns into PAM_AUTHINFO_UNAVAIL.
import net from 'net';
import { QuietEvent } from '../log/quiet-event';
import { peerCredentials, PeerCredentials } from './peer';
import { PROTOCOL_VERSION } from '../protocol/constants';
import { FrameError } from '../protocol/frame';
import { decodeRequest, errorFrame, PamRequest, resultFrame } from '../protocol/messages';
import { Logger } from '../log/logger';
import { Deadline, FrameChannel, PeerTimeoutError } from './channel';
import { ConnectionLimits } from './connection-limits';
import { decide, EarlierAuth, PolicyContext } from './policy';
import { KEEP_FOR_ACCOUNT_MS, KeptConnections } from './kept-connections';
import { escapeLogValue } from './syslog-line';
import { Answered, requestFields, requestLevel } from './request-line';
import { AccountingLog } from './accounting';
import { Metrics } from './metrics';

/** What the connections of one config generation share. */
export interface SessionEnv {
  logger: Logger;
  /** Whether the logger writes debug events: their fields are built only then. */
  debug: boolean;
  allowedUids: readonly number[];
  allowedGids: readonly number[];
  /** How long after connecting the module may take to send every frame of its request. */
  clientTimeoutMs: number;
  limits: ConnectionLimits;
  /** peer.refused: a refused peer that reconnects at will gets one line a minute, not one each. */
  refused: QuietEvent;
  /** The policy context at the time a request arrives (it changes on reload). */
  policy: () => PolicyContext;
  kept: KeptConnections;
  /** The accounting log; none: no lines. */
  accounting?: AccountingLog;
  metrics?: Metrics;
}

class ProtocolViolation extends Error {}

function socketFd(socket: net.Socket): number | undefined {
  // Node keeps the descriptor on its internal handle; there is no public accessor.
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/** The module sends its REQUEST as soon as it has connected (it has the password before it
 * connects): a connection that has not sent it within this long (or client_timeout, if
 * shorter) is idle, and goes. */
export const REQUEST_TIMEOUT_MS = 2000;

function readCredentials(socket: net.Socket): PeerCredentials | string {
  const fd = socketFd(socket);
  if (fd === undefined) return 'cannot read the peer credentials';
  try {
    return peerCredentials(fd);
  } catch (e) {
    return `cannot read the peer credentials: ${(e as Error).message}`;
  }
}

/** The peer's credentials if it may ask, or a reason to refuse it. */
function checkPeer(cred: PeerCredentials, env: SessionEnv): { ok: true; uid: number; pid: number } | { ok: false; why: string } {
  // SO_PEERGROUPS, not /proc: a member of e.g. "dovecot" by a supplementary group is found
  // even where /proc hides other users' processes from the worker (ProtectProc=invisible).
  if (env.allowedUids.includes(cred.uid) || env.allowedGids.includes(cred.gid)
    || cred.groups.some((g) => env.allowedGids.includes(g))) return { ok: true, uid: cred.uid, pid: cred.pid };
  return { ok: false, why: `uid ${cred.uid} gid ${cred.gid} (pid ${cred.pid}) is not in allowed_uids or allowed_groups` };
}

/** `connection` numbers the connection for the debug log (which requests shared one). */
export async function serveConnection(socket: net.Socket, env: SessionEnv, connection: number): Promise<void> {
  const connectedAt = performance.now();
  const channel = new FrameChannel(socket);
  const cred = readCredentials(socket);
  if (typeof cred === 'string') {
    env.refused.happened(cred);
    channel.refuse(errorFrame('PEER_REFUSED', `this process may not ask the worker: ${cred}`));
    return;
  }
  // Every connection, refused ones too, holds its place until its socket has closed.
  const place = env.limits.take(cred.uid);
  if (!place.ok) {
    channel.refuse(errorFrame('BUSY', `the worker is at its connection limit: ${place.why}`));
    return;
  }
  socket.once('close', place.release);
  const peer = checkPeer(cred, env);
  if (!peer.ok) {
    env.refused.happened(peer.why);
    channel.close(errorFrame('PEER_REFUSED', `this process may not ask the worker: ${peer.why}`));
    return;
  }

  // One deadline for the whole request from the moment the module connected, not one per
  // frame: a peer that trickles bytes gets no longer.
  const requestBy: Deadline = env.clientTimeoutMs <= REQUEST_TIMEOUT_MS
    ? { at: connectedAt + env.clientTimeoutMs, what: `its request within client_timeout (${env.clientTimeoutMs} ms) of connecting` }
    : { at: connectedAt + REQUEST_TIMEOUT_MS, what: `its request within ${REQUEST_TIMEOUT_MS} ms of connecting` };
  let req: PamRequest | undefined;
  let earlier: EarlierAuth | undefined;
  // The authentication whose connection is kept: its line waits for the account request.
  let held: Answered | undefined;
  try {
    // One request; after a successful authentication, at most one ACCOUNT request more.
    for (;;) {
      // The kept connection has its own bound: the account request within KEEP_FOR_ACCOUNT_MS.
      const keptBy: Deadline = { at: performance.now() + KEEP_FOR_ACCOUNT_MS, what: `its account request within ${KEEP_FOR_ACCOUNT_MS} ms` };
      const frame = earlier === undefined ? await channel.next(requestBy) : await channel.nextIfAny(keptBy, env.kept);
      if (frame === undefined) {
        channel.close();
        return;
      }
      const started = performance.now();
      if (frame.version !== PROTOCOL_VERSION) {
        env.logger.log('error', 'protocol.version_mismatch', { module: frame.version, worker: PROTOCOL_VERSION, pid: peer.pid });
        channel.close(errorFrame('VERSION', `the worker speaks protocol version ${PROTOCOL_VERSION}, the module ${frame.version}: upgrade them together`));
        return;
      }
      req = decodeRequest(frame.type, frame.payload);
      if (earlier !== undefined && req.op !== 'account') throw new ProtocolViolation('only an ACCOUNT request may follow an authentication on its connection');
      if (env.debug) env.logger.log('debug', 'request.start', { op: req.op, service: req.service, user: escapeLogValue(req.user ?? Buffer.alloc(0), true), args: req.args.join(' '), pid: peer.pid, uid: peer.uid, conn: connection });
      const policy = env.policy();
      // One round trip: the request carries everything, the RESULT answers it.
      const outcome = await decide(req, policy, earlier);
      // A record comes only with a success; it is what the account request may reuse.
      const record = outcome.record;
      const kept: EarlierAuth | undefined = earlier === undefined && req.op === 'authenticate' && record !== undefined
        && req.user !== null && env.kept.roomForOne && env.limits.roomToKeep(peer.uid)
        ? { store: record.store, user: Buffer.from(req.user), found: record.found, atMs: performance.now(), offline: record.offline }
        : undefined;
      if (kept !== undefined) channel.send(resultFrame(outcome.result, outcome.delayUsec, outcome.logs, KEEP_FOR_ACCOUNT_MS));
      else channel.finish(resultFrame(outcome.result, outcome.delayUsec, outcome.logs));
      const ms = performance.now() - started;
      env.metrics?.record(req.op, outcome.store, outcome.result, ms);
      env.accounting?.write({ op: req.op, service: req.service, user: req.user, rhost: req.rhost, store: outcome.store, result: outcome.result, reason: outcome.reason, ms, throttle: outcome.throttle, reused: outcome.reused });
      const answered: Answered = { req, outcome, ms };
      if (kept !== undefined) {
        // Its line waits for the account request on this connection.
        held = answered;
        earlier = kept;
        continue;
      }
      const first = held ?? answered;
      const account = held === undefined ? undefined : answered;
      held = undefined;
      env.logger.log(requestLevel(first, account), 'request', requestFields(first, account));
      return;
    }
  } catch (e) {
    const err = e as Error;
    if (err instanceof FrameError && err.version !== undefined && err.version !== PROTOCOL_VERSION) {
      env.logger.log('error', 'protocol.version_mismatch', { module: err.version, worker: PROTOCOL_VERSION, pid: peer.pid });
      channel.close(errorFrame('VERSION', `the worker speaks protocol version ${PROTOCOL_VERSION}, the module ${err.version}: upgrade them together`));
      return;
    }
    const code = err instanceof FrameError ? (err.kind === 'too_large' ? 'TOO_LARGE' : 'MALFORMED')
      : err instanceof PeerTimeoutError ? 'TIMEOUT'
      : err instanceof ProtocolViolation ? 'UNEXPECTED' : 'INTERNAL';
    env.logger.log('error', 'request.failed', { code, message: err.message, op: req?.op, service: req?.service, pid: peer.pid });
    channel.close(errorFrame(code, err.message));
  } finally {
    // An authentication whose account request did not come: its line alone.
    if (held !== undefined) env.logger.log(requestLevel(held, undefined), 'request', requestFields(held, undefined));
    // A password decide() did not get (it wipes the ones it is given).
    if (req?.password?.kind === 'ok') req.password.secret.fill(0);
  }
}

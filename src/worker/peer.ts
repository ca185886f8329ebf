// The worker's kernel calls (native/peer/peer_credentials.cc): who is at the other end of a
// module connection, and keeping the worker's memory out of core files and ptrace.
import path from 'path';

export interface PeerCredentials {
  pid: number;
  uid: number;
  /** The primary group (SO_PEERCRED). */
  gid: number;
  /** The supplementary groups (SO_PEERGROUPS), as the kernel recorded them at connect(). */
  groups: number[];
}

interface PeerAddon {
  peerCredentials(fd: number): PeerCredentials;
  setNonDumpable(): void;
}

/** From dist/src/worker/peer.js up to the repo root (or the installed tree's root). */
const addon = require(path.resolve(__dirname, '../../../build/Release/peer_credentials.node')) as PeerAddon;

/** The credentials of the peer of a connected AF_UNIX socket. Throws an Error (with errno and
 * code properties) when the kernel does not give them. */
export function peerCredentials(fd: number): PeerCredentials {
  return addon.peerCredentials(fd);
}

/** prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace by processes of the same uid, and
 * /proc/PID files (mem, environ, ...) become root's. Throws when the kernel refuses. */
export function setNonDumpable(): void {
  addon.setNonDumpable();
}

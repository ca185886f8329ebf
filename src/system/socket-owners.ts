// Who may serve pam_mapi.so's socket, by the module's own rule (native/shim/channel.c): the
// socket owned by, and the process behind it running as, root or the worker's system user:
// the one a line's worker_user= names, else pam-mapi. The user is looked up by name only, as
// the module's getpwnam_r() does; one that does not exist leaves root alone. The doctor and
// pam-mapi check's relay judge a socket with this, so they never trust one the module refuses.
import { userIdByName } from '../config/accounts';
import { WORKER_USER } from '../protocol/constants';

export interface SocketOwners {
  /** The worker user's name, for messages. */
  user: string;
  /** root, and the worker user's uid when there is such a user. */
  uids: number[];
}

/** The owners a stanza line's arguments allow: the last non-empty worker_user= wins, as in the
 * module. */
export function socketOwners(lineArgs: readonly string[] = [], root = '/'): SocketOwners {
  const user = lineArgs.filter((a) => a.startsWith('worker_user=') && a !== 'worker_user=').map((a) => a.slice('worker_user='.length)).pop() ?? WORKER_USER;
  const uid = userIdByName(user, root);
  return { user, uids: uid === undefined ? [0] : [0, uid] };
}

export function ownerName(uid: number, owners: SocketOwners): string | null {
  if (uid === 0) return 'root';
  return owners.uids.includes(uid) ? owners.user : null;
}

// The listening socket: handed over by systemd (socket activation, fd 3) or bound here with
// the configured mode, created private first so there is no moment it is open to everyone.
import fs from 'fs';
import net from 'net';
import path from 'path';

export const SD_LISTEN_FDS_START = 3;

function systemdSocket(): number | undefined {
  const fds = Number(process.env.LISTEN_FDS ?? '0');
  const pid = Number(process.env.LISTEN_PID ?? '0');
  if (fds >= 1 && pid === process.pid) return SD_LISTEN_FDS_START;
  return undefined;
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/** Removes a stale socket left by a dead worker; refuses to touch anything else. */
async function clearStale(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket: refusing to replace it`);
  if (await canConnect(socketPath)) throw new Error(`another worker already answers on ${socketPath}`);
  fs.unlinkSync(socketPath);
}

/** Makes dir and its missing parents 0755 as documented, whatever the umask (the unit's
 * UMask=0077 would make them 0700, and a parent of 0700 closes the socket to every other user);
 * a directory that exists is left as it is. */
export function makeOpenDir(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (first === undefined) return;
  // mkdirSync names the first directory it made; every one from there down to dir is new.
  const top = path.resolve(first);
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    fs.chmodSync(d, 0o755);
    if (d === top || d === path.dirname(d)) break;
  }
}

/** Binds a Unix socket at socketPath (after removing a stale one of a dead process), created
 * 0600 so that there is no moment it is open to everyone; the caller widens it if it must. */
export async function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  await clearStale(socketPath);
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => { server.off('error', reject); resolve(); });
    });
  } finally {
    process.umask(oldMask);
  }
}

export async function listen(server: net.Server, socketPath: string, mode: number, group: number | null): Promise<string> {
  const fd = systemdSocket();
  if (fd !== undefined) {
    delete process.env.LISTEN_FDS;
    delete process.env.LISTEN_PID;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd }, () => { server.off('error', reject); resolve(); });
    });
    return `fd ${fd} (systemd)`;
  }
  makeOpenDir(path.dirname(socketPath));
  await listenPrivately(server, socketPath);
  // -1 keeps the owner: root, or the worker's own user when it runs unprivileged.
  if (group !== null) fs.chownSync(socketPath, -1, group);
  fs.chmodSync(socketPath, mode);
  return socketPath;
}

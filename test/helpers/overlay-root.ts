// A throwaway copy of this machine's root file system, for tests that install packages with the
// real dpkg and run the real maintainer scripts: an overlay whose lower layer is / (read-only to
// it) and whose upper layer is a tmpfs, mounted in a private mount namespace and entered with
// chroot. Everything written (dpkg's database, /etc/passwd, /usr, /etc/pam.d) lands in the tmpfs
// and is gone when the namespace's last process exits, so it is safe on a developer's machine
// and on CI (root there too). Chosen over `dpkg --root` (the maintainer scripts would need a whole
// system inside the root) and a debootstrap chroot (minutes and a mirror per run).
// The namespace is held open by one sleeping process; each command enters it with nsenter.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class OverlayRoot {
  private constructor(
    private readonly holder: ChildProcess,
    private readonly dir: string,
  ) {}

  /** The root as the commands see it, from inside the namespace. */
  get merged(): string {
    return path.join(this.dir, 'merged');
  }

  static async create(): Promise<OverlayRoot> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-overlay-'));
    const m = path.join(dir, 'merged');
    // /run and /tmp fresh, as after a boot: the host's sockets and pid files are not the test's.
    const setup = [
      'set -e',
      `mount -t tmpfs -o mode=0755 tmpfs ${dir}`,
      `mkdir ${dir}/upper ${dir}/work ${m}`,
      `mount -t overlay overlay -o lowerdir=/,upperdir=${dir}/upper,workdir=${dir}/work ${m}`,
      `mount --rbind /proc ${m}/proc`,
      `mount --rbind /dev ${m}/dev`,
      `mount --rbind /sys ${m}/sys`,
      `mount -t tmpfs -o mode=0755 tmpfs ${m}/run`,
      `mount -t tmpfs -o mode=1777 tmpfs ${m}/tmp`,
      'echo ready',
      'exec sleep 86400',
    ].join('\n');
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
      holder.stdout?.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`overlay root: setup failed (${code}): ${err}`)));
    });
    holder.removeAllListeners('exit');
    return new OverlayRoot(holder, dir);
  }

  /** Runs a shell command in the namespace, outside the chroot (host paths visible). */
  outside(command: string, input = ''): Ran {
    const r = spawnSync('nsenter', ['-t', String(this.holder.pid), '-m', 'sh', '-c', command], { input, encoding: 'utf8', timeout: 300_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs a shell command as root inside the throwaway root. */
  run(command: string, input = ''): Ran {
    const env = 'env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C DEBIAN_FRONTEND=noninteractive';
    return this.outside(`exec chroot ${this.merged} ${env} sh -c '${command.replace(/'/g, `'\\''`)}'`, input);
  }

  /** Copies a host file into the root, at the given absolute path. */
  copyIn(hostPath: string, rootPath: string): void {
    const r = this.outside(`mkdir -p '${this.merged}${path.dirname(rootPath)}' && cp '${hostPath}' '${this.merged}${rootPath}'`);
    if (r.status !== 0) throw new Error(`copyIn ${hostPath}: ${r.stderr}`);
  }

  /**
   * What differs from the machine underneath, as "kind path sha256" lines: every file, link and
   * directory written into the upper layer, and every deletion (a whiteout). Compare two of
   * them to see what a step left behind.
   */
  changes(): Map<string, string> {
    // A file or directory copied up unchanged (same bytes, mode and owner as below) is no change.
    const script = `cd ${this.dir}/upper && find . -mindepth 1 | sort | while IFS= read -r p; do
      l=/\${p#./}
      if [ ! -c "$p" ] && [ ! -L "$p" ] && [ -e "$l" ] && [ "$(stat -c %a:%U:%G "$p")" = "$(stat -c %a:%U:%G "$l")" ] &&
        { [ -d "$p" ] || cmp -s "$p" "$l"; }; then continue; fi
      if [ -c "$p" ]; then echo "deleted \${p#.}";
      elif [ -L "$p" ]; then echo "link \${p#.} $(readlink "$p")";
      elif [ -d "$p" ]; then echo "dir \${p#.} $(stat -c %a:%U:%G "$p")";
      else echo "file \${p#.} $(stat -c %a:%U:%G "$p") $(sha256sum < "$p" | cut -c1-16)"; fi; done`;
    const r = this.outside(script);
    if (r.status !== 0) throw new Error(`changes: ${r.stderr}`);
    const out = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      if (line === '') continue;
      const [, p] = line.split(' ');
      out.set(p, line);
    }
    return out;
  }

  async close(): Promise<void> {
    // Whatever still runs in the namespace (a worker a failed test left) goes with it.
    if (this.holder.exitCode === null && this.holder.pid !== undefined) {
      const ns = fs.readlinkSync(`/proc/${this.holder.pid}/ns/mnt`);
      for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        if (Number(pid) === this.holder.pid) continue;
        try {
          if (fs.readlinkSync(`/proc/${pid}/ns/mnt`) === ns) process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Gone meanwhile, or not ours to read.
        }
      }
    }
    if (this.holder.exitCode === null) {
      const gone = new Promise((resolve) => this.holder.once('exit', resolve));
      this.holder.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

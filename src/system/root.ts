// Where the system's files are: "/" normally; a test root standing in for it when given
// (--root DIR or PAM_MAPI_ROOT), so that every check can be tried on a private tree.
import path from 'path';

export class SystemRoot {
  constructor(readonly dir: string = process.env.PAM_MAPI_ROOT ?? '/') {}

  path(p: string): string {
    return this.dir === '/' ? p : path.join(this.dir, p);
  }

  get pamDir(): string {
    return this.path('/etc/pam.d');
  }

  get stateDir(): string {
    return this.path('/var/lib/pam_mapi');
  }
}

// A throw-away certificate authority and a server certificate for 127.0.0.1, made with openssl,
// for the TLS tests of the database and directory stores.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** Makes a CA named `name` in dir and a server certificate signed by it, by default for 127.0.0.1. */
export function makeTestPki(dir: string, name = 'pam_mapi test CA', subjectAltName = 'IP:127.0.0.1, DNS:localhost'): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string): string => path.join(dir, f);
  // EC keys: much quicker to make than RSA, and every server here accepts them.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  fs.writeFileSync(p('san.ext'), `subjectAltName = ${subjectAltName}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext'], dir);
  fs.chmodSync(p('server.key'), 0o644);
  fs.chmodSync(p('ca.pem'), 0o644);
  return { caCert: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key') };
}

// pam-mapi hash: prints a Zarafa/Kopano salted-MD5 value for a password, for a users file or
// for checking what is in the database.
import { zarafaHash } from '../stores/zarafa-hash';
import { readSecret } from './read-secret';

export async function hashCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write('usage: pam-mapi hash   (reads the password without echo, or one line from stdin)\n');
    return 2;
  }
  const secret = await readSecret('Password: ');
  try {
    if (secret.length === 0) {
      process.stderr.write('pam-mapi hash: an empty password can never log on; nothing printed\n');
      return 1;
    }
    process.stdout.write(zarafaHash(secret) + '\n');
    return 0;
  } finally {
    secret.fill(0);
  }
}

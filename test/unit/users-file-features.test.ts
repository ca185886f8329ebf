// A users-file line's feature lists are checked like the config's: a misspelled disabled
// feature would leave that feature on for the user.
import { parseUsersFile } from '../../src/stores/file/file-store';

const HASH = '1a2b3c4d' + '0'.repeat(32);

test('known features in any case and separator pass, empty lists too', () => {
  const text = [`a:${HASH}`, `b:${HASH}:imap,pop3:mobile`, `c:${HASH}:IMAP Pop3`, `d:${HASH}:`, `e:${HASH}::`, `f:!${HASH}::webapp outlook`].join('\n');
  expect([...parseUsersFile(text, 'users').users.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
});

test('an unknown feature is an error naming the line and the likely feature; it spoils only its own user', () => {
  const file = parseUsersFile(`alice:${HASH}\ncarol:${HASH}::pop4\n`, '/etc/pam_mapi/users');
  expect(file.problems).toEqual(['/etc/pam_mapi/users:2: unknown feature "pop4" (did you mean pop3?); the features are imap pop3 mobile outlook webapp']);
  expect([...file.users.keys()]).toEqual(['alice']);
  expect([...file.broken.keys()]).toEqual(['carol']);
  expect(parseUsersFile(`bob:${HASH}:imapx`, 'users').problems[0]).toMatch(/users:1: unknown feature "imapx" \(did you mean imap\?\)/);
});

// "Did you mean": which misspellings get a guess, and which stay without one.
import { closest, editDistance } from '../../src/config/suggest';
import { closestArgument, parseModuleOptions } from '../../src/worker/options';

test('edit distance counts a swap of two letters as one edit', () => {
  expect(editDistance('sevice', 'service')).toBe(1);
  expect(editDistance('pop4', 'pop3')).toBe(1);
  expect(editDistance('imap', 'iamp')).toBe(1);
  expect(editDistance('', 'abc')).toBe(3);
});

test('a guess only when close: two edits at most, fewer than the word has letters', () => {
  expect(closest('sevice', ['service', 'store'])).toBe('service');
  expect(closest('frobnicate', ['service', 'store'])).toBeNull();
  expect(closest('x', ['imap', 'pop3'])).toBeNull();
  expect(closestArgument('stor')).toBe('store=');
  expect(closestArgument('degub')).toBe('debug');
});

test('an unknown argument with a value is fatal and corrected; a bare one is ignored', () => {
  const o = parseModuleOptions(['sevice=imap', 'use_frist_pass', 'worker_user=pam-mapi', 'debug=1', 'toString']);
  expect(o.fatal).toEqual(['unknown argument "sevice=imap" (did you mean service=?): refusing this line rather than ignoring a setting it was written with']);
  expect(o.corrections).toEqual([{ wrong: 'sevice=imap', right: 'service=imap' }, { wrong: 'use_frist_pass', right: 'use_first_pass' }]);
  expect(o.unknown).toEqual(['use_frist_pass', 'debug=1', 'toString']);
  expect(o.services).toBeNull();
  expect(parseModuleOptions(['service=pop3|imapp']).corrections).toEqual([{ wrong: 'service=pop3|imapp', right: 'service=pop3|imap' }]);
});

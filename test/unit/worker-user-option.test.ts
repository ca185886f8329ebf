// worker_user=NAME is the shim's (which user besides root it trusts behind the socket); the
// worker's parser takes it like worker= and timeout=, so it is not logged as unknown.
import { parseModuleOptions } from '../../src/worker/options';

test('worker_user= is known; an empty one is reported as invalid, never fatal', () => {
  const o = parseModuleOptions(['worker=/run/x.sock', 'worker_user=mailauth', 'timeout=5']);
  expect([o.unknown, o.invalid, o.fatal]).toEqual([[], [], []]);
  const empty = parseModuleOptions(['worker_user=', 'worker_user']);
  expect([empty.unknown, empty.invalid, empty.fatal]).toEqual([[], ['worker_user=', 'worker_user'], []]);
});

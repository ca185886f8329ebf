// The worker's Node.js flags are written in three places that V8 reads them from: they must agree.
import fs from 'fs';
import path from 'path';
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';

test('the systemd unit and the #! line of pam-mapi-worker carry the worker\'s Node.js flags', () => {
  const unit = fs.readFileSync(path.join(REPO_ROOT, 'scripts/systemd/pam-mapi-worker.service'), 'utf8');
  const execStart = /^ExecStart=@NODE@ (.*) @LIBDIR@\/dist\/src\/worker\/main\.js /m.exec(unit);
  expect(execStart?.[1].split(' ')).toEqual([...WORKER_NODE_FLAGS]);
  const shebang = fs.readFileSync(path.join(REPO_ROOT, 'src/worker/main.ts'), 'utf8').split('\n')[0];
  expect(shebang).toBe(`#!/usr/bin/env -S node ${WORKER_NODE_FLAGS.join(' ')}`);
  expect(fs.readFileSync(path.join(REPO_ROOT, 'dist/src/worker/main.js'), 'utf8').split('\n')[0]).toBe(shebang);
});

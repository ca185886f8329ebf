// The Node.js flags the worker runs with, wherever it is started: the systemd unit, the
// `pam-mapi-worker` command (its #! line), the tests and the benchmark. V8 reads them only at
// start-up, so they cannot be set from inside the worker.
//
// --max-semi-space-size=1: V8's young generation at 1 MB a half-space instead of 16. The worker
// allocates little that lives long; with the default, a file store of 100,000 users left the
// worker at 123-125 MB RSS after a load run, with this flag 96-102 MB, at the same speed
// (bench/README.md).
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

// The Node.js flags the worker runs with, wherever it is started: the systemd unit, the
// `pam-mapi-worker` command (its #! line), the tests and the benchmark. V8 reads them only at
// start-up, so they cannot be set from inside the worker.
//
// --max-semi-space-size=1: V8's young generation at 1 MB a half-space instead of 16. The worker
// allocates little that lives long; with the default, a file store of 100,000 users left the
// worker at 123-125 MB RSS after a load run, with this flag 96-102 MB, at the same speed
// (bench/README.md).
//
// --heap-growing-percent=30: after each full collection V8 lets the old generation grow to
// 1.3 times what was live before the next one, instead of up to several times (its own factor,
// which grows with the heap). Under load the worker promotes short-lived request objects; with
// V8's factor a 100,000-user file store's heap grew to 77 MB between collections of 25 MB live,
// and RSS to 122 MB; with this flag RSS stayed at 97 MB, at the same CPU per transaction
// (bench/README.md, round 4).
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--heap-growing-percent=30'];

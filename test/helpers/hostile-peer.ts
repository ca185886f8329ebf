// A hostile peer of the worker's socket, as a process of its own so a test can run it under
// another uid. Usage: node hostile-peer.js JSON, where JSON is a Plan; prints a JSON Report.
//   stream:  connects again and again, writing as fast as the worker takes bytes, until
//            totalBytes went out or maxMs passed. `lead` is sent first on every connection.
//   trickle: one connection, one byte every intervalMs for durationMs; reports when it closed.
//   idle:    opens `count` connections that send nothing but `lead`, holds them holdMs;
//            reports how many the worker closed, and when.
import net from 'net';

export interface Plan {
  mode: 'stream' | 'trickle' | 'idle';
  socket: string;
  /** stream: hex of what starts each connection, then hex of what repeats (bodyRepeat times
   * in one write: argv holds at most 128 KiB). */
  lead?: string;
  body?: string;
  bodyRepeat?: number;
  totalBytes?: number;
  maxMs?: number;
  intervalMs?: number;
  durationMs?: number;
  count?: number;
  holdMs?: number;
}

export interface Report {
  connections: number;
  bytes: number;
  /** The most bytes any one connection got into the worker's socket. */
  maxPerConnection: number;
  /** trickle: ms from connecting to the worker's close, or null if it stayed open. */
  closedAfterMs?: number | null;
  /** idle: how many connections the worker closed before holdMs, and the latest such close. */
  closedByWorker?: number;
  lastCloseMs?: number;
  /** Bytes the worker sent back, over all connections. */
  received: number;
}

function connect(socketPath: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    // Half-open: the worker ending its side must not end ours; a hostile peer keeps writing.
    const s = net.connect({ path: socketPath, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

async function stream(plan: Plan, report: Report): Promise<void> {
  const lead = Buffer.from(plan.lead ?? '', 'hex');
  const one = Buffer.from(plan.body ?? '', 'hex');
  const body = Buffer.concat(Array.from({ length: plan.bodyRepeat ?? 1 }, () => one));
  const until = Date.now() + (plan.maxMs ?? 20000);
  const total = plan.totalBytes ?? 0;
  while (report.bytes < total && Date.now() < until) {
    const s = await connect(plan.socket);
    if (s === null) { await new Promise((r) => setTimeout(r, 5)); continue; }
    report.connections++;
    s.on('data', (d: Buffer) => { report.received += d.length; });
    let mine = 0;
    await new Promise<void>((resolve) => {
      let open = true;
      s.on('error', () => undefined);
      s.on('close', () => { open = false; resolve(); });
      const pump = (): void => {
        // One write at a time: a byte counts once the kernel took it.
        if (!open || report.bytes >= total || Date.now() >= until) { s.destroy(); return; }
        const chunk = mine === 0 && lead.length > 0 ? lead : body;
        s.write(chunk, (err) => {
          if (err) { s.destroy(); return; }
          mine += chunk.length;
          report.bytes += chunk.length;
          pump();
        });
      };
      pump();
    });
    report.maxPerConnection = Math.max(report.maxPerConnection, mine);
  }
}

async function trickle(plan: Plan, report: Report): Promise<void> {
  const s = await connect(plan.socket);
  if (s === null) throw new Error('cannot connect');
  report.connections = 1;
  const started = Date.now();
  report.closedAfterMs = null;
  let open = true;
  s.on('data', (d: Buffer) => { report.received += d.length; });
  s.on('error', () => undefined);
  s.on('close', () => { if (open) report.closedAfterMs = Date.now() - started; open = false; });
  while (open && Date.now() - started < (plan.durationMs ?? 5000)) {
    s.write(Buffer.from([0x00]), (err) => { if (!err) { report.bytes++; report.maxPerConnection++; } });
    await new Promise((r) => setTimeout(r, plan.intervalMs ?? 500));
  }
  open = false;
  s.destroy();
}

async function idle(plan: Plan, report: Report): Promise<void> {
  const started = Date.now();
  const holdMs = plan.holdMs ?? 5000;
  const socks: net.Socket[] = [];
  const lead = Buffer.from(plan.lead ?? '', 'hex');
  report.closedByWorker = 0;
  report.lastCloseMs = 0;
  for (let i = 0; i < (plan.count ?? 1); i++) {
    const s = await connect(plan.socket);
    if (s === null) continue;
    report.connections++;
    s.on('data', (d: Buffer) => { report.received += d.length; });
    s.on('error', () => undefined);
    // The worker's close shows as the end of what it sends (our side stays half-open).
    s.on('end', () => {
      if (Date.now() - started < holdMs) {
        report.closedByWorker = (report.closedByWorker ?? 0) + 1;
        report.lastCloseMs = Date.now() - started;
      }
    });
    if (lead.length > 0) s.write(lead);
    socks.push(s);
  }
  // The test waits for this line before it goes on.
  process.stdout.write(`${JSON.stringify({ ready: socks.length })}\n`);
  await new Promise((r) => setTimeout(r, Math.max(0, holdMs - (Date.now() - started))));
  for (const s of socks) s.destroy();
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]) as Plan;
  const report: Report = { connections: 0, bytes: 0, maxPerConnection: 0, received: 0 };
  if (plan.mode === 'stream') await stream(plan, report);
  else if (plan.mode === 'trickle') await trickle(plan, report);
  else await idle(plan, report);
  // Ends the process once the report is written, whatever sockets the plan left behind.
  process.stdout.write(JSON.stringify(report) + '\n', () => process.kill(process.pid, 'SIGKILL'));
}

if (require.main === module) void main();

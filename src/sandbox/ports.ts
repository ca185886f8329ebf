// A free loopback port, for the servers that tests and the benchmark start on 127.0.0.1.
//
// Not port 0: the kernel hands out ephemeral ports (ip_local_port_range, 32768-60999 on Debian)
// again as soon as they are free, so a test that stops its server and starts it again on the
// same port can find that port taken by another suite's new server, which then answers in its
// place (slapd and MariaDB of every suite share their admin credentials). Ports come from
// below the ephemeral range instead, from a block of its own per Jest worker, and never twice
// from one process.
import net from 'net';

const FIRST = 20000;
const BLOCK = 1500;
const BLOCKS = 8;
const given = new Set<number>();

/** The block of this process: one per Jest worker (JEST_WORKER_ID 1..), the last for anything else. */
function block(): number {
  const id = Number.parseInt(process.env.JEST_WORKER_ID ?? '', 10);
  return Number.isInteger(id) && id >= 1 ? (id - 1) % (BLOCKS - 1) : BLOCKS - 1;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const base = FIRST + block() * BLOCK;
  const start = Math.floor(Math.random() * BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const port = base + ((start + i) % BLOCK);
    if (given.has(port)) continue;
    given.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${base}-${base + BLOCK - 1}`);
}

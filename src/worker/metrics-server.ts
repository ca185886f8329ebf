// Serves the metrics text (metrics.ts) on a Unix socket: connect, read to the end. The file is
// made with mode 0600 under a umask of 0177, so only the worker's user and root can connect;
// nothing is read from the peer, so a peer cannot make it hold anything.
import fs from 'fs';
import net from 'net';
import path from 'path';
import { Logger } from '../log/logger';
import { Metrics } from './metrics';

export async function serveMetrics(socketPath: string, metrics: Metrics, logger: Logger): Promise<net.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  try {
    // A socket left by an earlier worker; anything else at the path is not ours to remove.
    if (fs.lstatSync(socketPath).isSocket()) fs.unlinkSync(socketPath);
  } catch { /* nothing there */ }
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(metrics.text());
    socket.setTimeout(5000, () => socket.destroy());
  });
  server.maxConnections = 8;
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => { server.off('error', reject); resolve(); });
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(socketPath, 0o600);
  logger.log('notice', 'metrics.listening', { socket: socketPath });
  return server;
}

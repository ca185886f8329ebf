// Serves the metrics text (metrics.ts) on a Unix socket: connect, read to the end. The file is
// made with mode 0600 under a umask of 0177, so only the worker's user and root can connect;
// nothing is read from the peer, so a peer cannot make it hold anything.
import fs from 'fs';
import net from 'net';
import { listenPrivately } from './server';
import path from 'path';
import { Logger } from '../log/logger';
import { Metrics } from './metrics';

export async function serveMetrics(socketPath: string, metrics: Metrics, logger: Logger): Promise<net.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(metrics.text());
    socket.setTimeout(5000, () => socket.destroy());
  });
  server.maxConnections = 8;
  // A stale socket of a dead worker is replaced; a live worker's, or anything else, is not.
  await listenPrivately(server, socketPath);
  logger.log('notice', 'metrics.listening', { socket: socketPath });
  return server;
}

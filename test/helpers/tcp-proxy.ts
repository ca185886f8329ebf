// A loopback TCP relay in front of a test server, to count the connections a client opens and
// to cut them the way a server or a network does (an idle timeout, a reset mid-request).
import net from 'net';

export class TcpProxy {
  /** Connections accepted so far. */
  accepted = 0;
  /** Connections cut by dropAll() or dropOnNextData(). */
  dropped = 0;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private dropNext = false;
  /** While true, every byte either way is dropped and connections stay open: a network that
   * loses packets, where the client sees neither an answer nor an error. */
  blackhole = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy?.relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Connections open now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Closes every relayed connection at once, as a server timing out idle clients does. */
  dropAll(): void {
    for (const p of [...this.pairs]) this.cut(p);
  }

  /** The next data any client sends is not relayed: its connection is closed instead. */
  dropOnNextData(): void {
    this.dropNext = true;
  }

  async close(): Promise<void> {
    for (const p of [...this.pairs]) this.cut(p);
    await new Promise((r) => this.server.close(r));
  }

  private relay(client: net.Socket, targetPort: number): void {
    this.accepted++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on('data', (d: Buffer) => {
      if (this.blackhole) return;
      if (this.dropNext) {
        this.dropNext = false;
        this.cut(pair);
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!this.blackhole) client.write(d);
    });
    const done = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
    client.on('error', done);
    upstream.on('error', done);
  }

  private cut(pair: { client: net.Socket; upstream: net.Socket }): void {
    if (!this.pairs.has(pair)) return;
    this.dropped++;
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}

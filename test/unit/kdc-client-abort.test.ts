// A Kerberos check whose request the worker already gave up on (its signal aborted while the
// directory searched) must not reach a KDC: it would hold one of the few check slots, and a
// pool thread, for an answer nobody reads.
import net from 'net';
import { KdcClient } from '../../src/stores/krb5/kdc-client';
import { StoreUnavailableError } from '../../src/stores/store';

test('an aborted request asks no KDC and is refused as unavailable', async () => {
  let connections = 0;
  const kdc = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => kdc.listen(0, '127.0.0.1', resolve));
  try {
    const port = (kdc.address() as net.AddressInfo).port;
    const client = new KdcClient(
      { realm: 'EXAMPLE.TEST', kdcs: [`127.0.0.1:${port}`], keytab: '/nonexistent.keytab', validatePrincipal: '', mapping: '%u', timeoutMs: 2000 },
      { log: () => undefined, storeTimeoutMs: 2000, readFile: () => Buffer.alloc(0) },
    );
    const gaveUp = new AbortController();
    gaveUp.abort();
    const outcome = client.check({ principal: 'alice@EXAMPLE.TEST', enterprise: false }, Buffer.from('secret'), gaveUp.signal);
    await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(connections).toBe(0);
  } finally {
    await new Promise((resolve) => kdc.close(resolve));
  }
});

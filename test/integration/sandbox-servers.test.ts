// The private servers of the tests: a server the sandbox says it started is the one answering.
// A suite that stops its slapd and starts it again must not find another suite's slapd in its
// place: that slapd then answered for it while the test "paused" a dead process.
import { PrivateSlapd } from '../../src/sandbox/slapd';
import { freePort } from '../../src/sandbox/ports';

test('freePort never hands out a port twice, nor one the kernel uses for outgoing connections', async () => {
  const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
  expect(new Set(ports).size).toBe(ports.length);
  const [low] = (await import('fs')).readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (const p of ports) expect(p).toBeLessThan(low);
});

test('a slapd started again on a port another slapd took meanwhile: launch fails, it does not take the other for its own', async () => {
  const ldapPort = await freePort();
  const ldapsPort = await freePort();
  const ours = await PrivateSlapd.start({ ldapPort, ldapsPort });
  let theirs: PrivateSlapd | undefined;
  try {
    await ours.stop();
    theirs = await PrivateSlapd.start({ ldapPort, ldapsPort });
    await expect(ours.launch()).rejects.toThrow(/did not start/);
  } finally {
    await theirs?.destroy();
    await ours.destroy();
  }
}, 60000);

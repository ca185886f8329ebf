// The worker's reading of a REQUEST frame's payload (docs/protocol.md, "Decoding rules"): what a
// newer module may add is skipped, what the worker reads may come once, and the password's bytes
// in the frame are wiped whichever way the reading ends.
import { FrameBuilder, FrameError } from '../../src/protocol/frame';
import { Field, HEADER_SIZE, MessageType, Op, PasswordFrom } from '../../src/protocol/constants';
import { decodeRequest } from '../../src/protocol/messages';

function payload(extra: (b: FrameBuilder) => FrameBuilder): Buffer {
  const b = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'smtp')
    .bytes(Field.USER, Buffer.from('alice')).u32(Field.PASSWORD_FROM, PasswordFrom.PROMPT).bytes(Field.PASSWORD, Buffer.from('wonderland'));
  return extra(b).build().subarray(HEADER_SIZE);
}

test.each([24, 31, 11, Field.TEXT, Field.KEEP_MS, 200])('tag %i, which a request does not use, is skipped however often it comes', (tag) => {
  const p = payload((b) => b.bytes(tag, Buffer.from('x')).bytes(tag, Buffer.from('y')));
  const req = decodeRequest(MessageType.REQUEST, p);
  expect([req.op, req.service, req.user?.toString()]).toEqual(['authenticate', 'smtp', 'alice']);
  expect(req.password?.kind === 'ok' && req.password.secret.toString()).toBe('wonderland');
  // The frame's copy of the password is wiped once the request has its own.
  expect(p.includes(Buffer.from('wonderland'))).toBe(false);
});

test.each([Field.USER, Field.OP, Field.PASSWORD, Field.PASSWORD_FROM])('field %i twice is malformed, and the frame is wiped', (tag) => {
  const p = payload((b) => (tag === Field.OP || tag === Field.PASSWORD_FROM ? b.u32(tag, 1) : b.bytes(tag, Buffer.from('again'))));
  let thrown: unknown;
  try {
    decodeRequest(MessageType.REQUEST, p);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(FrameError);
  expect((thrown as Error).message).toBe(`field ${tag} appears more than once`);
  expect(p.every((b) => b === 0)).toBe(true);
});

test('the arguments: 32 are read, one more marks the line as too long, two more are malformed', () => {
  const args = (n: number) => payload((b) => {
    for (let i = 0; i < n; i++) b.text(Field.ARG, `a${i}`);
    return b;
  });
  const full = decodeRequest(MessageType.REQUEST, args(32));
  expect([full.args.length, full.argsTruncated, full.args[31]]).toEqual([32, false, 'a31']);
  const over = decodeRequest(MessageType.REQUEST, args(33));
  expect([over.args.length, over.argsTruncated]).toEqual([32, true]);
  expect(() => decodeRequest(MessageType.REQUEST, args(34))).toThrow(/more than 33 module arguments/);
});

// The Node floor's server: a do-nothing Node process on a Unix socket that answers pam_mapi.so
// with the frames a real worker sent in a recorded transaction (bench/node-floor.ts), frame
// for frame, so it speaks exactly as many round trips as the module and the worker do, with
// no policy, store, log or timer in between. What a transaction costs a worker beyond this is
// the worker's own work.
//   node dist/bench/node-floor-server.js SOCKET DIALOGUE.json
import fs from 'fs';
import net from 'net';
import { HEADER_SIZE } from '../src/protocol/constants';
import { Dialogue, frameKey } from './node-floor-dialogue';

function main(): void {
  const [socketPath, dialogueFile] = process.argv.slice(2);
  const dialogue = JSON.parse(fs.readFileSync(dialogueFile, 'utf8')) as Dialogue;
  const answers = new Map(Object.entries(dialogue).map(([k, a]) => [k, { frames: Buffer.concat(a.frames.map((f) => Buffer.from(f, 'base64'))), close: a.close }]));
  const server = net.createServer((socket) => {
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= HEADER_SIZE) {
        const size = HEADER_SIZE + buf.readUInt32BE(4);
        if (buf.length < size) return;
        const answer = answers.get(frameKey(buf.subarray(0, size)));
        buf = buf.subarray(size);
        // A frame the recording never saw: the module gets no answer it could take for a yes.
        if (answer === undefined) {
          socket.destroy();
          return;
        }
        if (answer.frames.length > 0) socket.write(answer.frames);
        if (answer.close) {
          socket.end();
          return;
        }
      }
    });
    socket.on('error', () => socket.destroy());
  });
  fs.rmSync(socketPath, { force: true });
  server.listen(socketPath, () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main();

// Reads a password: from a terminal without echo, otherwise one line of standard input.
// The result is a Buffer so the caller can wipe it.

export async function readSecret(prompt: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (stdin.isTTY) return readFromTerminal(prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    const b = chunk as Buffer;
    const nl = b.indexOf(0x0a);
    if (nl >= 0) {
      chunks.push(b.subarray(0, nl));
      break;
    }
    chunks.push(b);
  }
  const line = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

function readFromTerminal(prompt: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    const bytes: number[] = [];
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      const secret = Buffer.from(bytes);
      bytes.fill(0);
      if (err) reject(err);
      else resolve(secret);
    };
    const onData = (data: Buffer): void => {
      for (const byte of data) {
        if (byte === 0x0d || byte === 0x0a || byte === 0x04) return done(); // Enter, or Ctrl-D
        if (byte === 0x03) return done(new Error('interrupted'));
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else if (byte >= 0x20) bytes.push(byte); // other control keys are not part of a password
      }
      data.fill(0);
    };
    stdin.on('data', onData);
  });
}

// A TCP port on 127.0.0.1 the OS chose and no one holds, for a process that
// must be told its port before it starts (the simulator's portal, mcsim's build).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// Drives an XS engine on Node: the xsnap-worker that the npm package
// @agoric/xsnap builds from Moddable's XS sources at install. The worker
// speaks netstrings on file descriptors 3 (to XS) and 4 (from XS):
//   to XS:   e<script>       evaluate a script
//            ?<bytes>        call the script's handleCommand(bytes)
//            /<bytes>        the reply to a command XS issued
//            q               quit
//   from XS: .<meter>\1<reply>  done (meter: JSON with compute, currentHeapCount)
//            !<message>      uncaught exception
//            ?<bytes>        XS called issueCommand(bytes): the host answers
// A JS wrapper ships with the package, but it needs SES's lockdown in the Node
// process; this driver needs nothing but the binary.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

interface Meter {
  /** XS computrons: one per bytecode executed, plus string lengths. */
  compute: number;
  /** Live heap slots after the command. */
  currentHeapCount: number;
  /** Bytes the engine has allocated for its heaps and stacks. */
  allocate: number;
}

export interface Result {
  reply: Uint8Array;
  meter: Meter;
}

export type HostHandler = (request: Uint8Array) => Uint8Array;

const require = createRequire(import.meta.url);

/** Path of the xsnap-worker binary built by `npm ci`. */
function xsnapBinary(): string {
  const pkg = dirname(require.resolve('@agoric/xsnap/package.json'));
  const platform = process.platform === 'darwin' ? 'mac' : 'lin';
  return join(pkg, 'xsnap-native', 'xsnap', 'build', 'bin', platform, 'release', 'xsnap-worker');
}

/** Highest computron count a single command may use: generous, but a runaway loop still ends. */
const METER_LIMIT = 2_000_000_000;

export class XsWorker {
  private readonly child: ChildProcess;
  private readonly toXs: Writable;
  private inbox: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Result) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private exited: Error | null = null;
  private readonly host: HostHandler;

  private constructor(child: ChildProcess, host: HostHandler) {
    this.child = child;
    this.host = host;
    this.toXs = child.stdio[3] as Writable;
    (child.stdio[4] as Readable).on('data', (chunk: Buffer) => this.receive(chunk));
    child.on('exit', (code, signal) => {
      this.exited = new Error(`XS engine exited (${signal ?? 'code ' + code})`);
      this.waiting?.reject(this.exited);
      this.waiting = null;
    });
    child.on('error', (e) => {
      this.exited = e;
      this.waiting?.reject(e);
      this.waiting = null;
    });
  }

  static start(host: HostHandler = (r) => r, options: { stdout?: 'inherit' | 'ignore' } = {}): XsWorker {
    const child = spawn(xsnapBinary(), ['smgw', '-l', String(METER_LIMIT)], {
      stdio: ['ignore', options.stdout ?? 'ignore', 'inherit', 'pipe', 'pipe'],
    });
    return new XsWorker(child, host);
  }

  /** Evaluates a script (a bundle) in the engine's global scope. */
  evaluate(script: string): Promise<Result> {
    return this.request(Buffer.concat([Buffer.from('e'), Buffer.from(script, 'utf8')]));
  }

  /** Calls the script's handleCommand with `bytes`. */
  command(bytes: Uint8Array): Promise<Result> {
    return this.request(Buffer.concat([Buffer.from('?'), bytes]));
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send(Buffer.from('q'));
    (this.toXs as Writable).end();
    await exit;
  }

  private request(message: Buffer): Promise<Result> {
    const run = () =>
      new Promise<Result>((resolve, reject) => {
        if (this.exited) return reject(this.exited);
        if (this.toXs.writableEnded) return reject(new Error('XS engine closed'));
        this.waiting = { resolve, reject };
        this.send(message);
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private send(payload: Uint8Array): void {
    // After close, a command still running in XS may call out: the engine is going, nothing answers.
    if (this.toXs.writableEnded) return;
    this.toXs.write(Buffer.concat([Buffer.from(payload.length + ':'), payload, Buffer.from(',')]));
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
    for (;;) {
      const colon = this.inbox.indexOf(58);
      if (colon < 0) return;
      const n = Number(this.inbox.subarray(0, colon).toString('latin1'));
      if (this.inbox.length < colon + 1 + n + 1) return;
      const message = this.inbox.subarray(colon + 1, colon + 1 + n);
      this.inbox = this.inbox.subarray(colon + n + 2);
      this.dispatch(message);
    }
  }

  private dispatch(message: Buffer): void {
    const kind = message[0];
    if (kind === 0x3f /* ? */) {
      let reply: Uint8Array;
      try {
        reply = this.host(new Uint8Array(message.buffer, message.byteOffset + 1, message.length - 1));
      } catch (e) {
        reply = Buffer.from('!' + (e instanceof Error ? e.message : String(e)));
      }
      this.send(Buffer.concat([Buffer.from('/'), reply]));
      return;
    }
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    if (kind === 0x2e /* . */) {
      const sep = message.indexOf(1);
      const meter = sep >= 0 ? (JSON.parse(message.subarray(1, sep).toString('utf8')) as Meter) : { compute: 0, currentHeapCount: 0, allocate: 0 };
      waiting.resolve({ reply: new Uint8Array(message.subarray(sep >= 0 ? sep + 1 : 1)), meter });
    } else if (kind === 0x21 /* ! */) {
      waiting.reject(new Error('XS: ' + message.subarray(1).toString('utf8')));
    } else {
      waiting.reject(new Error('xsnap protocol error'));
    }
  }
}

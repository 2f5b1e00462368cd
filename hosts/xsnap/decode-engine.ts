// Node side of decoding inside XS: starts the engine with the decoder bundle
// and the crypto bridge, and turns its events back into readings and errors.

import { readFileSync } from 'node:fs';
import { XsWorker } from './worker';
import { CryptoHost } from './crypto-host';

export interface XsDecodeOptions {
  protocol: string;
  key?: string;
  authKey?: string;
  zone?: string;
  transport?: string;
}

export interface XsEvent {
  line?: string;
  error?: string;
  reason?: string;
  bytes: number;
  computrons: number;
  /** Live XS heap slots after the command in which the event happened. */
  heap: number;
}

const CHUNK = 256;

export class XsDecoder {
  private readonly worker: XsWorker;
  private readonly crypto = new CryptoHost();

  private constructor(worker: XsWorker) {
    this.worker = worker;
  }

  static async start(bundlePath: string, options: XsDecodeOptions): Promise<XsDecoder> {
    let self: XsDecoder | null = null;
    const worker = XsWorker.start((request) => self!.crypto.handle(request) ?? Uint8Array.of(2));
    self = new XsDecoder(worker);
    await worker.evaluate(readFileSync(bundlePath, 'utf8'));
    await self.restart(options);
    return self;
  }

  /** Starts a new decoder in the same engine (the previous one is closed). */
  async restart(options: XsDecodeOptions): Promise<void> {
    await this.send('o', new TextEncoder().encode(JSON.stringify(options)));
  }

  /** Feeds bytes in UART-sized chunks; returns the events they produced. */
  async push(bytes: Uint8Array): Promise<XsEvent[]> {
    const events: XsEvent[] = [];
    for (let i = 0; i < bytes.length; i += CHUNK) events.push(...(await this.send('d', bytes.subarray(i, i + CHUNK))));
    return events;
  }

  /** Collects garbage and returns the live heap slots that remain. */
  async liveHeap(): Promise<number> {
    await this.send('g', new Uint8Array(0));
    return this.lastMeter.currentHeapCount;
  }

  async end(): Promise<XsEvent[]> {
    return this.send('e', new Uint8Array(0));
  }

  /** Live heap slots and bytes allocated, as of the last command. */
  lastMeter = { compute: 0, currentHeapCount: 0, allocate: 0 };

  async close(): Promise<void> {
    this.crypto.close();
    await this.worker.close();
  }

  private async send(op: string, payload: Uint8Array): Promise<XsEvent[]> {
    const message = new Uint8Array(1 + payload.length);
    message[0] = op.charCodeAt(0);
    message.set(payload, 1);
    const { reply, meter } = await this.worker.command(message);
    this.lastMeter = meter;
    const events = JSON.parse(new TextDecoder().decode(reply)) as XsEvent[];
    for (const e of events) e.heap = meter.currentHeapCount;
    return events;
  }
}

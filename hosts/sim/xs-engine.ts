// `smgw sim --engine xs`: each boot of the simulated device runs the
// firmware inside a fresh XS engine (xsnap), and serves its port calls from
// the same simulator ports the Node engine uses. Events from the world
// (timers, UART chunks, network events, HTTP requests) go into XS as
// commands; the engine's computrons are counted per event.

import { readFileSync } from 'node:fs';
import { XsWorker } from '../xsnap/worker';
import { CryptoHost } from '../xsnap/crypto-host';
import { distFile } from '../node/paths';
import { PowerCut } from './power';
import { fromWire, toWire, type Base64, type Wire } from './xs/rpc';
import type { DeviceStatus, Engine, EngineBoot, Firmware } from './engine';
import type { Ports } from '../../src/ports/index';
import type { HttpRequest, HttpResponse } from '../../src/ports/http';
import type { Timer } from '../../src/ports/clock';

const b64: Base64 = {
  encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  decode: (text) => new Uint8Array(Buffer.from(text, 'base64')),
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class XsFirmware implements Firmware {
  computrons = 0;
  /** Computrons by the kind of event that spent them. */
  readonly byEvent: { [kind: string]: { events: number; computrons: number } } = {};
  private readonly worker: XsWorker;
  private readonly boot: EngineBoot;
  private readonly ports: Ports;
  private readonly crypto = new CryptoHost();
  private readonly readingListeners: ((json: string) => void)[] = [];
  private nextPromise = 1;
  private dead = false;

  constructor(boot: EngineBoot) {
    this.boot = boot;
    this.ports = boot.ports();
    this.worker = XsWorker.start((request) => this.serve(request));
  }

  /** Sends a command into XS; after it, a flash that lost power means the device is dead. */
  async command(kind: string, body: object, cutsPower = true): Promise<unknown> {
    if (this.dead) return null;
    const { reply, meter } = await this.worker.command(encoder.encode(JSON.stringify(body)));
    this.computrons += meter.compute;
    const e = (this.byEvent[kind] ??= { events: 0, computrons: 0 });
    e.events++;
    e.computrons += meter.compute;
    if (cutsPower && this.boot.powerFailed) throw new PowerCut();
    return fromWire(JSON.parse(decoder.decode(reply)) as Wire, b64, () => () => undefined);
  }

  async start(readings: boolean): Promise<void> {
    await this.worker.evaluate(readFileSync(distFile('xs/device.js'), 'utf8'));
    await this.boot.run(() => this.command('boot', { t: 'boot', readings, build: toWire(this.boot.build(), b64, () => 0) }));
  }

  onReading(listener: (json: string) => void): void {
    this.readingListeners.push(listener);
  }

  get engine(): string {
    return 'xs';
  }

  /** A port call from XS. */
  private serve(request: Uint8Array): Uint8Array {
    if (request[0] !== 0x7b /* { */) return this.crypto.handle(request) ?? Uint8Array.of(2);
    const { p, m, a } = JSON.parse(decoder.decode(request)) as { p: string; m: string; a: Wire };
    // Events are counted by what registered them: serial.open (UART chunks), clock.every, network.onEvent ...
    const kind = `${p}.${m}`;
    const args = fromWire(a, b64, (id) => (...values: unknown[]) => this.command(kind, { t: 'cb', id, a: toWire(values, b64, () => 0) })) as unknown[];
    try {
      const result = this.dispatch(p, m, args);
      return encoder.encode(JSON.stringify({ r: toWire(result, b64, () => 0) }));
    } catch (e) {
      return encoder.encode(JSON.stringify({ e: e instanceof Error ? e.message : String(e), k: e instanceof PowerCut ? 'PowerCut' : 'Error' }));
    }
  }

  private dispatch(port: string, method: string, args: unknown[]): unknown {
    const call = (target: object) => (target as { [m: string]: (...a: unknown[]) => unknown })[method](...args);
    switch (port) {
      case 'serial':
        return call(this.ports.serial);
      case 'flash':
        return method === 'info' ? { size: this.ports.flash.size, sectorSize: this.ports.flash.sectorSize } : call(this.ports.flash);
      case 'kv':
        return call(this.ports.kv);
      case 'clock': {
        // Timers cross as their id; the Node side keeps the objects.
        if (method === 'cancel') {
          const id = (args[0] as { id: number }).id;
          const timer = this.timers.get(id);
          this.timers.delete(id);
          if (timer) this.ports.clock.cancel(timer);
          return null;
        }
        const result = call(this.ports.clock);
        if (method === 'after' || method === 'every') {
          const timer = result as Timer;
          this.timers.set(timer.id, timer);
          return { id: timer.id };
        }
        return result;
      }
      case 'network':
        return call(this.ports.network);
      case 'http':
        return this.http(method, args);
      case 'mqtt':
        return call(this.ports.mqtt);
      case 'assets':
        return call(this.ports.assets);
      case 'system':
        return call(this.ports.system);
      case 'ota': {
        const ota = this.ports.ota;
        return method === 'info' ? { hardware: ota.hardware, slotSize: ota.slotSize, resumable: ota.resumable } : call(ota);
      }
      case 'log':
        this.ports.log(String(args[0]));
        return null;
      case 'readings':
        for (const l of this.readingListeners) l(String(args[0]));
        return null;
    }
    throw new Error(`no port ${port}`);
  }

  private readonly timers = new Map<number, Timer>();
  private readonly servers = new Map<number, { close(): void }>();

  private http(method: string, args: unknown[]): unknown {
    if (method === 'serve') {
      const [port, id] = args as [number, number];
      const server = this.ports.http.serve(port, ((req: HttpRequest) => this.command('http', { t: 'http', id, req: toWire(req, b64, () => 0) })) as never);
      this.servers.set(id, server);
      return null;
    }
    if (method === 'close') {
      this.servers.get(args[0] as number)?.close();
      this.servers.delete(args[0] as number);
      return null;
    }
    if (method === 'request') {
      const id = this.nextPromise++;
      const work = this.ports.http.request(args[0] as never).then(
        (v) => this.boot.run(() => this.command('settle', { t: 'settle', id, ok: true, v: toWire(v, b64, () => 0) })),
        (e: Error) => this.boot.run(() => this.command('settle', { t: 'settle', id, ok: false, v: e.message })),
      );
      this.boot.track(work as Promise<unknown>);
      return id;
    }
    throw new Error(`no http.${method}`);
  }

  async uploadNow(): Promise<void> {
    await this.boot.run(() => this.command('uploadNow', { t: 'uploadNow' }));
  }

  async status(): Promise<DeviceStatus> {
    if (this.dead) return { line: { bytes: 0, lineErrors: 0, telegrams: 0, readings: 0, rejected: {}, lastByteAt: -1, lastTelegramAt: -1, lastReadingAt: -1, lastError: null, acknowledged: 0 }, silences: [] };
    // Read after a cut too: the report keeps the counters RAM held when the power failed.
    return (await this.command('status', { t: 'status' }, false)) as DeviceStatus;
  }

  async kill(): Promise<void> {
    this.dead = true;
    this.crypto.close();
    await this.worker.close().catch(() => undefined);
  }
}

export function xsEngine(): Engine {
  return async (boot) => {
    const firmware = new XsFirmware(boot);
    await firmware.start(true);
    return firmware;
  };
}

export type { HttpResponse };

// The firmware inside the XS engine, for `smgw sim --engine xs`: the same
// Gateway as on Node and on the ESP32, its ports forwarded to the
// simulator's ports on the Node side (as Moddable's runtime forwards them to
// the hardware), and the crypto port served by the Node side as the native
// module serves it on the device.

import { Gateway, type Build } from '../../../src/app';
import { readingJson } from '../../../src/meter/format';
import type { Ports } from '../../../src/ports/index';
import type { HttpHandler, HttpRequest } from '../../../src/ports/http';
import { bridgedCrypto } from '../../xsnap/crypto-bridge';
import { fromWire, toWire, type Base64, type Wire } from './rpc';

declare const Base64: { encode(data: ArrayBuffer): string; decode(text: string): ArrayBuffer };

const b64: Base64 = {
  encode: (bytes) => Base64.encode(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer)),
  decode: (text) => new Uint8Array(Base64.decode(text)),
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const callbacks = new Map<number, (...args: unknown[]) => unknown>();
let nextCallback = 1;
const servers = new Map<number, HttpHandler>();
const promises = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function register(f: (...args: unknown[]) => unknown): number {
  const id = nextCallback++;
  callbacks.set(id, f);
  return id;
}

/** Calls a port method on the Node side. */
function call(port: string, method: string, args: unknown[]): unknown {
  const request = JSON.stringify({ p: port, m: method, a: toWire(args, b64, register) });
  const reply = JSON.parse(decoder.decode(issueCommand(encoder.encode(request).buffer as ArrayBuffer))) as { r?: Wire; e?: string; k?: string };
  if (reply.e !== undefined) {
    const error = new Error(reply.e);
    error.name = reply.k ?? 'Error';
    throw error;
  }
  return fromWire(reply.r ?? null, b64, () => () => undefined);
}

const proxy = <T extends object>(port: string, methods: string[]): T => {
  const p: { [m: string]: unknown } = {};
  for (const m of methods) p[m] = (...args: unknown[]) => call(port, m, args);
  return p as T;
};

function ports(): Ports {
  const flashInfo = call('flash', 'info', []) as { size: number; sectorSize: number };
  const otaInfo = call('ota', 'info', []) as { hardware: string; slotSize: number; resumable: boolean };
  return {
    serial: proxy('serial', ['open', 'write', 'close']),
    flash: { ...proxy('flash', ['read', 'write', 'erase']), size: flashInfo.size, sectorSize: flashInfo.sectorSize } as Ports['flash'],
    kv: proxy('kv', ['get', 'getBytes', 'set', 'delete', 'keys']),
    clock: proxy('clock', ['now', 'uptime', 'set', 'after', 'every', 'cancel']),
    crypto: bridgedCrypto,
    network: proxy('network', ['connect', 'disconnect', 'startAccessPoint', 'stopAccessPoint', 'captiveDns', 'scan', 'address', 'onEvent', 'sntp']),
    http: {
      serve(port: number, handler: HttpHandler) {
        const id = register(handler as (...args: unknown[]) => unknown);
        servers.set(id, handler);
        call('http', 'serve', [port, id]);
        return { close: () => call('http', 'close', [id]) };
      },
      request(request) {
        const id = call('http', 'request', [request]) as number;
        return new Promise((resolve, reject) => promises.set(id, { resolve: resolve as (v: unknown) => void, reject }));
      },
    },
    mqtt: proxy('mqtt', ['open', 'publish', 'close']),
    assets: proxy('assets', ['get', 'names']),
    system: proxy('system', ['heap', 'setupButtonHeld', 'restart']),
    ota: { ...proxy('ota', ['running', 'inactiveSlot', 'open', 'write', 'read', 'complete', 'cancel', 'markValid', 'rollback']), ...otaInfo } as Ports['ota'],
    log: (line: string) => {
      call('log', 'line', [line]);
    },
  };
}

let gateway: Gateway | null = null;

globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  const command = JSON.parse(decoder.decode(message)) as { t: string; id?: number; a?: Wire[]; req?: Wire; ok?: boolean; v?: Wire; readings?: boolean; build?: Wire };
  let result: unknown = null;
  switch (command.t) {
    case 'boot':
      gateway = new Gateway(ports(), fromWire(command.build ?? null, b64, () => () => undefined) as Build);
      if (command.readings) gateway.reader.onReading((r) => call('readings', 'reading', [readingJson(r)]));
      gateway.start();
      break;
    case 'cb': {
      const f = callbacks.get(command.id!);
      if (f) f(...((fromWire(command.a ?? [], b64, () => () => undefined) as unknown[]) ?? []));
      break;
    }
    case 'http': {
      const handler = servers.get(command.id!);
      result = handler ? handler(fromWire(command.req ?? null, b64, () => () => undefined) as HttpRequest) : { status: 503, headers: {}, body: 'no server\n' };
      break;
    }
    case 'settle': {
      const p = promises.get(command.id!);
      promises.delete(command.id!);
      if (p) {
        if (command.ok) p.resolve(fromWire(command.v ?? null, b64, () => () => undefined));
        else p.reject(new Error(String(command.v)));
      }
      break;
    }
    case 'status':
      result = gateway ? { line: gateway.reader.stats, silences: gateway.reader.silences, uplink: gateway.uplink?.stats ?? null, mqtt: gateway.mqtt?.stats ?? null } : null;
      break;
    case 'uploadNow':
      gateway?.uploadNow();
      break;
  }
  return encoder.encode(JSON.stringify(toWire(result, b64, register))).buffer as ArrayBuffer;
};

// HTTP port on Moddable: the http Server for the portal, and its
// Request over SecureSocket (TLS 1.2, the CA pinned, a client certificate)
// for the uplink.

import { Request, Server } from 'http';
import SecureSocket from 'securesocket';
import Timer from 'timer';
import type { ClientRequest, ClientResponse, HttpHandler, HttpPort, HttpRequest, HttpResponse, HttpServer } from '../../src/ports/http';

/**
 * The Request dictionary as this host fills it. It also takes the Socket
 * class and its `secure` options (securesocket.md), which the typings'
 * HTTPRequestOptions lacks: hence this shape and a cast at the constructor.
 */
interface SecureRequestOptions {
  host: string;
  port: number;
  path: string;
  method: string;
  headers: (string | number)[];
  body?: string | ArrayBuffer | boolean;
  response: typeof ArrayBuffer;
  Socket?: unknown;
  secure?: {
    protocolVersion: number;
    certificate: ArrayBuffer;
    clientKey?: ArrayBuffer;
    clientCertificates?: ArrayBuffer[];
    verify?: boolean;
  };
}

/** Largest request body the portal accepts: a certificate bundle fits, a flood does not. */
const MAX_BODY = 16 * 1024;

interface Exchange {
  method: string;
  path: string;
  headers: { [name: string]: string };
  body: Uint8Array | null;
  refused: number;
  /** A response body sent in fragments, and how much of it is out. */
  out?: Uint8Array;
  sent?: number;
}

/**
 * Bodies larger than this go out in fragments as the socket has room: the
 * server writes a one-shot body only once the socket can take all of it, which
 * a 17 KB page never fits (lwIP's send buffer is a few KB).
 */
const ONE_SHOT_MAX = 1024;

function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
}

function respond(handler: HttpHandler, x: Exchange): HttpResponse {
  if (x.refused) return { status: x.refused, headers: { 'content-type': 'text/plain' }, body: 'request body too large\n' };
  const request: HttpRequest = { method: x.method, path: x.path, headers: x.headers, body: x.body };
  try {
    return handler(request);
  } catch {
    // A handler fault must not take the server down; the handler logs its own errors.
    return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'internal error\n' };
  }
}

function parseUrl(url: string): { secure: boolean; host: string; port: number; path: string } {
  const m = /^(https?):\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(url);
  if (!m) throw new Error('invalid URL ' + url);
  const secure = m[1] === 'https';
  return { secure, host: m[2], port: m[3] ? Number(m[3]) : secure ? 443 : 80, path: m[4] ?? '/' };
}

export class ModdableHttp implements HttpPort {
  /** Device port -> the port this host listens on (the portal's 80 is 8080 or a test's port on lin). */
  private readonly listenPorts: { [device: number]: number };

  constructor(listenPorts: { [device: number]: number } = {}) {
    this.listenPorts = listenPorts;
  }

  serve(port: number, handler: HttpHandler): HttpServer {
    const server = new Server({ port: this.listenPorts[port] ?? port });
    server.callback = function (this: Request & { x?: Exchange }, message: number, value?: unknown, value2?: unknown) {
      switch (message) {
        case Server.status:
          this.x = { method: String(value2), path: String(value), headers: {}, body: null, refused: 0 };
          break;
        case Server.header:
          this.x!.headers[String(value)] = String(value2);
          if (value === 'content-length' && Number(value2) > MAX_BODY) this.x!.refused = 413;
          break;
        case Server.headersComplete:
          return this.x!.refused ? false : ArrayBuffer;
        case Server.requestComplete:
          if (value instanceof ArrayBuffer) this.x!.body = new Uint8Array(value);
          break;
        case Server.prepareResponse: {
          const r = respond(handler, this.x!);
          const headers: string[] = [];
          for (const name in r.headers) headers.push(name, r.headers[name]);
          // Strings go out as UTF-8 bytes: the server itself sends strings as ASCII only.
          const bytes = typeof r.body === 'string' ? new Uint8Array(ArrayBuffer.fromString(r.body)) : r.body;
          if (bytes.length <= ONE_SHOT_MAX) return { status: r.status, headers, body: buffer(bytes) };
          headers.push('content-length', String(bytes.length));
          this.x!.out = bytes;
          this.x!.sent = 0;
          return { status: r.status, headers, body: true };
        }
        case Server.responseFragment: {
          const x = this.x!;
          const room = Number(value);
          if (!x.out || x.sent! >= x.out.length || !(room > 0)) return undefined;
          // A copy of the next piece (a resource's bytes stay in flash until then).
          const piece = x.out.slice(x.sent!, Math.min(x.out.length, x.sent! + room));
          x.sent! += piece.length;
          return piece.buffer as ArrayBuffer;
        }
      }
      return undefined;
    } as typeof server.callback;
    return { close: () => server.close() };
  }

  request(req: ClientRequest): Promise<ClientResponse> {
    return new Promise((resolve, reject) => {
      let u: ReturnType<typeof parseUrl>;
      try {
        u = parseUrl(req.url);
      } catch (e) {
        reject(e);
        return;
      }
      const headers: string[] = [];
      for (const name in req.headers) headers.push(name, req.headers[name]);
      const options: SecureRequestOptions = {
        host: u.host,
        port: u.port,
        path: u.path,
        method: req.method,
        headers,
        response: ArrayBuffer,
      };
      // A body goes out in fragments of what the socket can take (Request.requestFragment):
      // a one-shot body is written as one TLS record, which a socket refuses when it is
      // larger than its send buffer (1 KB on lin, lwIP's send buffer on the ESP32).
      const body = req.body === undefined ? null : typeof req.body === 'string' ? new Uint8Array(ArrayBuffer.fromString(req.body)) : req.body;
      let sent = 0;
      if (body && body.byteLength > 0) {
        options.body = true;
        headers.push('content-length', String(body.byteLength));
      } else if (body) options.body = new ArrayBuffer(0);
      if (u.secure) {
        if (!req.tls) {
          reject(new Error('https needs the CA to check the server against'));
          return;
        }
        options.Socket = SecureSocket;
        options.secure = {
          protocolVersion: 0x303, // TLS 1.2
          certificate: buffer(req.tls.ca),
          verify: true,
        };
        if (req.tls.certificate && req.tls.key) {
          options.secure.clientKey = buffer(req.tls.key);
          options.secure.clientCertificates = [buffer(req.tls.certificate)];
        }
      }
      let done = false;
      const finish = (error: Error | null, response?: ClientResponse) => {
        if (done) return;
        done = true;
        Timer.clear(timer);
        if (error) reject(error);
        else resolve(response!);
      };
      const request = new Request(options as never);
      const timer = Timer.set(() => {
        request.close();
        finish(new Error('request timed out'));
      }, req.timeout);
      let status = 0;
      const received: { [name: string]: string } = {};
      request.callback = (message: number, value?: unknown, value2?: unknown) => {
        if (message === Request.requestFragment) {
          if (!body || sent >= body.byteLength) return undefined;
          const n = Math.min(Number(value), body.byteLength - sent);
          const fragment = body.slice(sent, sent + n).buffer;
          sent += n;
          return fragment;
        }
        if (message === Request.status) status = Number(value);
        else if (message === Request.header) received[String(value)] = String(value2);
        else if (message === Request.responseComplete) {
          finish(null, { status, headers: received, body: new Uint8Array(value instanceof ArrayBuffer ? value : new ArrayBuffer(0)) });
        } else if (message < 0) finish(new Error('connection failed'));
      };
    });
  }
}

// HTTP on the desktop. The server is a real socket when the simulator is
// given a portal port (a person, or a browser test, opens it); otherwise
// requests reach the handler in-process. The client makes real requests
// (TLS with the pinned CA and the client certificate), tracked by the
// scheduler so that virtual time waits for them at --speed max.

import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { VirtualTime } from './virtual-time';
import type { ClientRequest, ClientResponse, HttpHandler, HttpPort, HttpRequest, HttpResponse, HttpServer } from '../../src/ports/http';

const MAX_BODY = 16 * 1024;

function pem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Requests the simulated device's server answers without a socket. */
export class InProcessServers {
  private readonly handlers = new Map<number, HttpHandler>();

  register(port: number, handler: HttpHandler): void {
    this.handlers.set(port, handler);
  }

  unregister(port: number): void {
    this.handlers.delete(port);
  }

  /** Sends a request to the device's server on `port` (80: the portal). */
  handle(port: number, request: HttpRequest): HttpResponse {
    const h = this.handlers.get(port);
    if (!h) throw new Error(`nothing listens on port ${port}`);
    return h(request);
  }
}

export class SimHttp implements HttpPort {
  private readonly scheduler: VirtualTime;
  private readonly inProcess: InProcessServers;
  /** Device port -> real port on this machine (the portal's --portal-port). */
  private readonly realPorts: Map<number, number>;
  private readonly run: <T>(callback: () => T) => T | undefined | Promise<T | undefined>;
  private readonly servers: Server[] = [];

  /** Whether the device's network is up (a request during an outage fails as it would on the device). */
  private readonly online: () => boolean;
  /** Whether the boot that made a request is still alive: a dead boot's requests never settle. */
  private readonly alive: () => boolean;

  constructor(
    scheduler: VirtualTime,
    inProcess: InProcessServers,
    realPorts: Map<number, number>,
    run: <T>(callback: () => T) => T | undefined | Promise<T | undefined> = (c) => c(),
    online: () => boolean = () => true,
    alive: () => boolean = () => true,
  ) {
    this.scheduler = scheduler;
    this.inProcess = inProcess;
    this.realPorts = realPorts;
    this.run = run;
    this.online = online;
    this.alive = alive;
  }

  serve(port: number, handler: HttpHandler): HttpServer {
    const real = this.realPorts.get(port);
    if (real === undefined) {
      this.inProcess.register(port, handler);
      return { close: () => this.inProcess.unregister(port) };
    }
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) refused = true;
        else chunks.push(c);
      });
      req.on('end', async () => {
        const headers: { [name: string]: string } = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const request: HttpRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: chunks.length ? new Uint8Array(Buffer.concat(chunks)) : null };
        let response: HttpResponse | undefined;
        if (refused) response = { status: 413, headers: { 'content-type': 'text/plain' }, body: 'request body too large\n' };
        else {
          try {
            response = await this.run(() => handler(request));
          } catch {
            response = { status: 500, headers: { 'content-type': 'text/plain' }, body: 'internal error\n' };
          }
        }
        // The device died while the request was on its way.
        if (!response) response = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'device restarting\n' };
        res.writeHead(response.status, response.headers);
        res.end(typeof response.body === 'string' ? response.body : Buffer.from(response.body));
      });
    });
    // A restarted device listens again while the last boot's port may still be closing: try again shortly.
    let tries = 0;
    server.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE' && ++tries < 20) setTimeout(() => server.listen(real, '127.0.0.1'), 250);
      else process.stderr.write(`smgw sim: the portal cannot listen on 127.0.0.1:${real}: ${e.message}\n`);
    });
    server.listen(real, '127.0.0.1');
    this.servers.push(server);
    return { close: () => server.close() };
  }

  request(req: ClientRequest): Promise<ClientResponse> {
    const work = new Promise<ClientResponse>((resolve, reject) => {
      if (!this.online()) {
        reject(new Error('network down: no route to ' + req.url.replace(/^(\w+:\/\/[^/]+).*$/, '$1')));
        return;
      }
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        reject(new Error('invalid URL ' + req.url));
        return;
      }
      const secure = url.protocol === 'https:';
      if (secure && !req.tls) {
        reject(new Error('https needs the CA to check the server against'));
        return;
      }
      const options = {
        method: req.method,
        headers: req.headers,
        timeout: req.timeout,
        ...(secure && req.tls
          ? {
              ca: pem(req.tls.ca, 'CERTIFICATE'),
              cert: req.tls.certificate ? pem(req.tls.certificate, 'CERTIFICATE') : undefined,
              key: req.tls.key ? pem(req.tls.key, 'PRIVATE KEY') : undefined,
              // What Moddable's TLS on the ESP32 offers: TLS 1.2, ECDHE-RSA or RSA key exchange, AES-128.
              minVersion: 'TLSv1.2' as const,
              maxVersion: 'TLSv1.2' as const,
              ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:AES128-SHA256:AES128-SHA',
              rejectUnauthorized: true,
            }
          : {}),
      };
      const r = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: { [name: string]: string } = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({ status: res.statusCode ?? 0, headers, body: new Uint8Array(Buffer.concat(chunks)) });
        });
        res.on('error', reject);
      });
      r.on('timeout', () => r.destroy(new Error('request timed out')));
      r.on('error', (e) => reject(e));
      if (req.body !== undefined) r.write(typeof req.body === 'string' ? req.body : Buffer.from(req.body));
      r.end();
    });
    this.scheduler.track(work);
    // The answer reaches the firmware only if the boot that asked is still alive.
    return new Promise<ClientResponse>((resolve, reject) => {
      work.then(
        (v) => this.alive() && resolve(v),
        (e: unknown) => this.alive() && reject(e),
      );
    });
  }

  /** The device lost power: its servers stop. */
  closeAll(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
  }
}

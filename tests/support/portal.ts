// A client of the simulated device's portal, in process: keeps the session
// cookie and the CSRF token as the portal's page does.

import type { Simulation } from '../../simulator/runner';
import type { HttpResponse } from '../../src/ports/http';

export interface PortalAnswer {
  status: number;
  headers: { [name: string]: string };
  text: string;
  json(): any;
}

export class PortalClient {
  /** The cookies the portal set, by name, as a browser keeps them (paths aside); sent together. */
  cookies = new Map<string, string>();
  csrf = '';
  private readonly sim: Simulation;

  constructor(sim: Simulation) {
    this.sim = sim;
  }

  /** Sends a request as the page would (the session cookie, and the CSRF token on POST); `headers` may override both. Bytes go as application/octet-stream. */
  async call(method: string, path: string, body?: unknown, headers: { [name: string]: string } = {}): Promise<PortalAnswer> {
    const h: { [name: string]: string } = {};
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    if (body !== undefined) h['content-type'] = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
    Object.assign(h, headers);
    for (const k of Object.keys(h)) if (h[k] === '') delete h[k];
    const bytes = body === undefined ? null : body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    const r: HttpResponse = await this.sim.world.servers.handle(80, { method, path, headers: h, body: bytes });
    const setCookie = r.headers['set-cookie'];
    if (setCookie) {
      const [name, value] = setCookie.split(';')[0].split('=');
      if (/Max-Age=0/.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body);
    return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) };
  }

  /** Logs in; throws when refused. */
  async login(password: string): Promise<void> {
    const r = await this.call('POST', '/api/login', { password });
    if (r.status !== 200) throw new Error(`login refused: ${r.status} ${r.text}`);
    this.csrf = r.json().csrf;
  }
}

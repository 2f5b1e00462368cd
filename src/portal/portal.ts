// The portal: the device's HTTP server on port 80. It serves the pages (the
// assets port), answers the captive-portal probes, and routes the API
// (src/portal/api.ts) behind the login. It also owns the setup access point.

import type { PortalGateway } from './gateway';
import type { PortalState } from './state';
import type { HttpRequest, HttpResponse, HttpServer } from '../ports/http';
import type { WifiNetwork } from '../ports/network';
import { Auth, INITIAL_PASSWORD } from './auth';
import { AccessPoint, AP_ADDRESS } from './access';
import { Router } from './router';
import { json, splitPath, text, redirect } from './http';
import { answerProbe, isProbe } from './probes';
import { AP_PASSWORD_KEY, setupDone } from './config';
import { Detector, sameLine } from './detect';
import type { MeterSettings } from '../meter/settings';
import { registerRoutes } from './api';
import { registerUpdateRoutes } from './update';

const CONTENT_TYPES: { [ext: string]: string } = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

/** Most bytes of the last telegram kept for the status page's hex view. */
const TELEGRAM_KEPT = 1024;

export class Portal implements PortalState {
  readonly gateway: PortalGateway;
  readonly auth: Auth;
  readonly ap: AccessPoint;
  readonly detector: Detector;
  scan: { state: 'idle' | 'scanning' | 'done'; networks: WifiNetwork[] } = { state: 'idle', networks: [] };
  /** The last telegram, raw (decoded or not: a refused one is what a user needs to see), when it came (uptime), and why it was refused. */
  lastTelegram: { bytes: Uint8Array; at: number; refused: string | null } | null = null;
  /** Settings changed since boot: they apply after a restart. */
  restartNeeded = false;
  /** Uptime when the reader last started (the diagnosis waits a little before "no data"). */
  readerSince = 0;
  private readonly router: Router;
  private server: HttpServer | null = null;

  constructor(gateway: PortalGateway) {
    this.gateway = gateway;
    const { kv, crypto, clock } = gateway.ports;
    this.auth = new Auth(kv, crypto, clock);
    this.ap = new AccessPoint(gateway.ports);
    this.detector = new Detector(gateway.ports, gateway.settings.zone);
    this.router = new Router(this.auth, (line) => gateway.ports.log(line));
    registerRoutes(this.router, this);
    registerUpdateRoutes(this.router, this);
  }

  /** Set up: the owner chose a password and finished the wizard. */
  get configured(): boolean {
    return this.auth.hasPassword && setupDone(this.gateway.ports.kv);
  }

  start(): void {
    const g = this.gateway;
    const { kv, http, clock } = g.ports;
    this.readerSince = clock.uptime();
    g.reader.onReading((_r, telegram) => {
      this.lastTelegram = { bytes: telegram.slice(0, TELEGRAM_KEPT), at: clock.uptime(), refused: null };
    });
    g.reader.onRejected((error, telegram) => {
      // Noise that never framed has no bytes to show: the last framed telegram stays.
      if (telegram) this.lastTelegram = { bytes: telegram.slice(0, TELEGRAM_KEPT), at: clock.uptime(), refused: error.message };
    });
    this.auth.takeResumeTicket();
    const configured = this.configured;
    const apPassword = (configured ? kv.get(AP_PASSWORD_KEY) : undefined) ?? INITIAL_PASSWORD;
    this.ap.start(configured, g.settings.wifi.ssid, apPassword, (line) => g.ports.log(line));
    this.server = http.serve(80, (request) => this.handle(request));
    if (!configured) g.ports.log(`portal: not set up; join ${'SMGW.Lite'} and open http://${AP_ADDRESS}/ (initial password: see the README)`);
  }

  stop(): void {
    this.detector.stop();
    this.ap.stop();
    this.server?.close();
    this.server = null;
  }

  /** Where a probe or a stray request is sent before setup. */
  private setupUrl(): string {
    return `http://${this.ap.address ?? AP_ADDRESS}/#setup`;
  }

  handle(request: HttpRequest): HttpResponse {
    const { path } = splitPath(request.path);
    const get = request.method === 'GET' || request.method === 'HEAD';
    if (get && isProbe(path)) return answerProbe(path, this.configured ? null : this.setupUrl());
    const routed = this.router.handle(request);
    if (routed) return routed;
    if (path.indexOf('/api/') === 0) return json(404, { error: 'no such API' });
    if (!get) return text(405, 'method not allowed\n');
    // Before setup, a page of another site (the phone's browser guessing) goes to the portal.
    const host = (request.headers['host'] ?? '').replace(/:\d+$/, '');
    if (!this.configured && this.ap.address && /[a-z]/i.test(host) && host !== 'localhost' && host.indexOf('.local') < 0) return redirect(this.setupUrl());
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = /^[a-z0-9-]+\.(html|css|js)$/.test(name) ? this.gateway.ports.assets.get(name) : null;
    if (!body) return text(404, 'not found\n');
    const ext = name.slice(name.lastIndexOf('.') + 1);
    return {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[ext],
        'cache-control': 'no-cache',
        // The pages load nothing from elsewhere and may not be framed by another site.
        'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      },
      body,
    };
  }

  /**
   * Whether telegrams have been seen with these meter settings: auto-detect found them with exactly these,
   * or the gateway's reader, reading with these, has framed some (decoded or not: the line works).
   */
  seen(meter: MeterSettings): boolean {
    const found = this.detector.found;
    if (found && sameLine(found, meter)) return true;
    const g = this.gateway;
    return g.readerMeter !== null && sameLine(g.readerMeter, meter) && g.readerHeardTelegrams;
  }

  /** Config changed: noted in the event log (never with a secret) and applied at the next restart. */
  changed(message: string): void {
    this.restartNeeded = true;
    this.gateway.event('config', 'config: ' + message);
  }
}

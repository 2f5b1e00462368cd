// One request to the backend, as the day-after delivery and the live channel
// both make it: the device's URL, the pinned CA, its client certificate (or
// device token), and the backend's JSON answer or its error as a sentence.
// One request at a time: a TLS session takes about 40 KB of the ESP32's RAM
// while it lasts, and two at once would not fit beside everything else; who
// finds the client busy tries later.

import type { ClientRequest, ClientResponse, HttpPort, TlsOptions } from '../ports/http';
import type { UplinkSecrets, UplinkSettings } from './settings';

const REQUEST_TIMEOUT_MS = 30000;
/** The JSON answers the device reads are small: more than this is not looked at (an update offer fits). */
const ANSWER_BYTES = 1024;

/** What the device tells the backend about itself with every request (headers `smgw-firmware`, `smgw-backlog`). */
export interface DeviceReport {
  firmware: string;
  /** Reading-log entries the backend has not acknowledged yet. */
  backlog: number;
}

export class BackendClient {
  private readonly http: HttpPort;
  private readonly settings: UplinkSettings;
  private readonly secrets: UplinkSecrets;
  private inFlight = false;

  constructor(http: HttpPort, settings: UplinkSettings, secrets: UplinkSecrets) {
    this.http = http;
    this.settings = settings;
    this.secrets = secrets;
  }

  private tls(): TlsOptions | undefined {
    if (!this.secrets.ca) return undefined;
    return this.settings.auth === 'certificate' && this.secrets.certificate && this.secrets.key
      ? { ca: this.secrets.ca, certificate: this.secrets.certificate, key: this.secrets.key }
      : { ca: this.secrets.ca };
  }

  /** A request is on its way: the next must wait until it has settled. */
  get busy(): boolean {
    return this.inFlight;
  }

  /**
   * POSTs `body` to `path`; the answer's JSON object, or throws an Error
   * saying what the backend or the network said (or that a request is on
   * its way: see `busy`).
   */
  async post(path: string, contentType: string, body: Uint8Array | string, report: DeviceReport): Promise<{ [key: string]: unknown }> {
    if (this.inFlight) throw new Error('another request to the backend is on its way');
    this.inFlight = true;
    try {
      return await this.send(path, contentType, body, report);
    } finally {
      this.inFlight = false;
    }
  }

  /**
   * GETs bytes `from`..`to` (inclusive) of `path` with an HTTP Range request:
   * a piece of a firmware image. Throws unless the backend answers 206 with
   * exactly that range.
   */
  async getRange(path: string, from: number, to: number, report: DeviceReport): Promise<Uint8Array> {
    if (this.inFlight) throw new Error('another request to the backend is on its way');
    this.inFlight = true;
    try {
      const response = await this.http.request(this.request(path, 'GET', { range: `bytes=${from}-${to}` }, undefined, report));
      if (response.status !== 206) throw new Error(`backend answered ${response.status} to a range request: ${this.answer(response.body).reason}`);
      const expected = `bytes ${from}-${to}/`;
      const got = response.headers['content-range'] ?? '';
      if (got.slice(0, expected.length) !== expected || response.body.length !== to - from + 1) throw new Error(`backend answered range "${got}" with ${response.body.length} bytes, asked for ${from}-${to}`);
      return response.body;
    } finally {
      this.inFlight = false;
    }
  }

  /** GETs `path`: the answer's JSON object, or throws as post() does. */
  async get(path: string, report: DeviceReport): Promise<{ [key: string]: unknown }> {
    if (this.inFlight) throw new Error('another request to the backend is on its way');
    this.inFlight = true;
    try {
      return this.json(await this.http.request(this.request(path, 'GET', {}, undefined, report)));
    } finally {
      this.inFlight = false;
    }
  }

  private request(path: string, method: string, extra: { [name: string]: string }, body: Uint8Array | string | undefined, report: DeviceReport): ClientRequest {
    const headers: { [name: string]: string } = { ...extra, 'smgw-firmware': report.firmware, 'smgw-backlog': String(report.backlog) };
    if (this.settings.auth === 'token' && this.secrets.token) headers.authorization = 'Bearer ' + this.secrets.token;
    const request: ClientRequest = { url: this.settings.url.replace(/\/$/, '') + path, method, headers, timeout: REQUEST_TIMEOUT_MS };
    if (body !== undefined) request.body = body;
    if (this.settings.url.startsWith('https:')) {
      const tls = this.tls();
      if (!tls) throw new Error('no CA to check the backend against: enrol the device');
      request.tls = tls;
    }
    return request;
  }

  private answer(body: Uint8Array): { object: { [key: string]: unknown } | null; reason: string } {
    const text = String.fromCharCode.apply(null, Array.from(body.subarray(0, ANSWER_BYTES)));
    let answer: unknown = null;
    try {
      answer = JSON.parse(text);
    } catch {
      // not JSON: the text itself is the reason
    }
    const object = answer !== null && typeof answer === 'object' ? (answer as { [key: string]: unknown }) : null;
    return { object, reason: object && typeof object.error === 'string' ? object.error : text };
  }

  private json(response: ClientResponse): { [key: string]: unknown } {
    const { object, reason } = this.answer(response.body);
    if (response.status !== 200) throw new Error(`backend answered ${response.status}: ${reason}`);
    if (!object) throw new Error('backend answered without JSON');
    return object;
  }

  private async send(path: string, contentType: string, body: Uint8Array | string, report: DeviceReport): Promise<{ [key: string]: unknown }> {
    return this.json(await this.http.request(this.request(path, 'POST', { 'content-type': contentType }, body, report)));
  }
}

// One request to the backend, as the day-after delivery and the live channel
// both make it: the device's URL, the pinned CA, its client certificate (or
// device token), and the backend's JSON answer or its error as a sentence.
// One request at a time: a TLS session takes about 40 KB of the ESP32's RAM
// while it lasts, and two at once would not fit beside everything else; who
// finds the client busy tries later.

import type { ClientRequest, HttpPort, TlsOptions } from '../ports/http';
import type { UplinkSecrets, UplinkSettings } from './uplink';

const REQUEST_TIMEOUT_MS = 30000;
/** The answers the device reads are small: more than this is not looked at. */
const ANSWER_BYTES = 512;

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

  private async send(path: string, contentType: string, body: Uint8Array | string, report: DeviceReport): Promise<{ [key: string]: unknown }> {
    const headers: { [name: string]: string } = { 'content-type': contentType, 'smgw-firmware': report.firmware, 'smgw-backlog': String(report.backlog) };
    if (this.settings.auth === 'token' && this.secrets.token) headers.authorization = 'Bearer ' + this.secrets.token;
    const request: ClientRequest = { url: this.settings.url.replace(/\/$/, '') + path, method: 'POST', headers, body, timeout: REQUEST_TIMEOUT_MS };
    if (this.settings.url.startsWith('https:')) {
      const tls = this.tls();
      if (!tls) throw new Error('no CA to check the backend against: enrol the device');
      request.tls = tls;
    }
    const response = await this.http.request(request);
    const text = String.fromCharCode.apply(null, Array.from(response.body.subarray(0, ANSWER_BYTES)));
    let answer: unknown = null;
    try {
      answer = JSON.parse(text);
    } catch {
      // not JSON: the text itself is the reason below
    }
    const object = answer !== null && typeof answer === 'object' ? (answer as { [key: string]: unknown }) : null;
    if (response.status !== 200) {
      const reason = object && typeof object.error === 'string' ? object.error : text;
      throw new Error(`backend answered ${response.status}: ${reason}`);
    }
    if (!object) throw new Error('backend answered without JSON');
    return object;
  }
}

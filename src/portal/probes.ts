// Captive-portal detection: the URLs phones and laptops fetch when they join
// a network. Before setup, each is answered with a redirect to the setup
// page, so the phone opens the portal by itself; afterwards, with what the
// real server would say, so the device does not look like a captive portal.

import type { HttpResponse } from '../ports/http';
import { redirect, text } from './http';

/** Path -> the answer the operating system expects when it is online. */
const PROBES: { [path: string]: () => HttpResponse } = {
  // Android, ChromeOS
  '/generate_204': () => ({ status: 204, headers: { 'cache-control': 'no-store' }, body: '' }),
  '/gen_204': () => ({ status: 204, headers: { 'cache-control': 'no-store' }, body: '' }),
  // iOS, macOS
  '/hotspot-detect.html': () => text(200, '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>', 'text/html'),
  '/library/test/success.html': () => text(200, '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>', 'text/html'),
  // Windows
  '/connecttest.txt': () => text(200, 'Microsoft Connect Test'),
  '/ncsi.txt': () => text(200, 'Microsoft NCSI'),
  '/redirect': () => ({ status: 204, headers: { 'cache-control': 'no-store' }, body: '' }),
};

export function isProbe(path: string): boolean {
  return Object.prototype.hasOwnProperty.call(PROBES, path);
}

/** `setupUrl` when the portal wants attention (not set up), the online answer otherwise. */
export function answerProbe(path: string, setupUrl: string | null): HttpResponse {
  return setupUrl ? redirect(setupUrl) : PROBES[path]();
}

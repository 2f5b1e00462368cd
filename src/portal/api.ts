// The portal's API: session, setup steps, status, actions and the event log.
// Everything but the session endpoints needs a login; every POST needs the
// session's CSRF token (src/portal/router.ts). No response carries a secret:
// keys and passwords are write-only, reported only as set or not set.

import type { PortalState } from './state';
import type { Router } from './router';
import { EVENT_KINDS, type EventKind, type LogEntry } from '../formats/entries';
import { entryJson } from '../store/json';
import { loadKeys } from '../config/settings';
import { toHex } from '../codec/bytes';
import { zoneNames } from '../time/zone';
import { HttpError, json, numberParam, queryParam, stringField } from './http';
import { RESUME_PATH, sessionCookie } from './auth';
import { diagnose } from './diagnostics';
import { describeMeter } from './detect';
import { loadMqtt } from '../mqtt/settings';
import { exportConfig, markSetupDone, parseMeter, secretsSet, setAccessPointPassword, setBackend, setKeys, setMeter, setMqtt, setTaf, setWifi, wipeKeyValues } from './config';

/** Most log entries one request returns (the device's HTTP server builds the body in RAM). */
const MAX_ENTRIES_PER_REQUEST = 100;
/** Time for the response to leave before the device restarts. */
const RESTART_DELAY_MS = 500;
/** Flash sectors erased per timer tick during a factory reset (the watchdog must keep being fed). */
const ERASE_PER_TICK = 4;

type Demand = { state: 'pending' } | { state: 'done'; entry: LogEntry } | { state: 'failed'; error: string };

export function registerRoutes(router: Router, portal: PortalState): void {
  const g = portal.gateway;
  const { kv, clock, network, system } = g.ports;
  let demand: Demand | null = null;
  const demandJson = (): { state: string; entry?: object; error?: string } => {
    const d = demand!;
    return d.state === 'done' ? { state: d.state, entry: entryJson(d.entry) } : d;
  };
  /** Setup steps other than the password need the owner's own password first. */
  const owner = () => {
    if (!portal.auth.hasPassword) throw new HttpError(409, 'set the admin password first');
  };
  /** Restarts after the answer has gone out; the next boot's event says why. */
  const restartSoon = (reason: string) => {
    g.prepareRestart(reason);
    clock.after(RESTART_DELAY_MS, () => {
      g.stop();
      system.restart();
    });
  };

  // ---- session ----
  router.add('GET', '/api/session', 'public', (ctx) =>
    json(200, { loggedIn: ctx.session !== null, csrf: ctx.session?.csrf ?? null, configured: portal.configured, passwordSet: portal.auth.hasPassword, firmware: g.firmware }),
  );
  router.add('POST', '/api/login', 'public', (ctx) => {
    const password = stringField(ctx.body(), 'password', 64);
    const r = portal.auth.login(password);
    if (!r.ok) return json(r.status, { error: r.error, retryAfter: r.retryAfter }, r.retryAfter ? { 'retry-after': String(r.retryAfter) } : {});
    return json(200, { csrf: r.session.csrf, configured: portal.configured, passwordSet: portal.auth.hasPassword }, { 'set-cookie': sessionCookie(r.session) });
  });
  // After a restart the portal asked for: the page that asked is logged in again by its ticket (src/portal/auth.ts).
  router.add('POST', RESUME_PATH, 'public', (ctx) => {
    const session = portal.auth.resume(ctx.request);
    if (!session) return json(401, { error: 'log in again' });
    return json(200, { csrf: session.csrf, configured: portal.configured, passwordSet: portal.auth.hasPassword }, { 'set-cookie': sessionCookie(session) });
  });
  router.add('POST', '/api/logout', 'session', (ctx) => {
    portal.auth.logout(ctx.session!);
    return json(200, { loggedIn: false }, { 'set-cookie': sessionCookie(null) });
  });

  // ---- status ----
  router.add('GET', '/api/status', 'session', () => {
    const uptime = clock.uptime();
    const t = portal.lastTelegram;
    const keys = loadKeys(kv);
    const encrypted = keys.key !== null;
    keys.key?.fill(0);
    keys.authKey?.fill(0);
    return json(200, {
      ...g.status(),
      diagnosis: diagnose(g.reader.stats, uptime, portal.readerSince, encrypted),
      lastTelegram: t ? { ageMs: uptime - t.at, hex: toHex(t.bytes), refused: t.refused } : null,
      meterDescription: describeMeter(g.settings.meter),
      // null where the host has no figures of the device's heap (a host's own memory would mislead).
      heap: system.heap() ?? null,
      network: { station: network.address(), ssid: g.settings.wifi.ssid, accessPoint: portal.ap.reason ? { address: portal.ap.address, reason: portal.ap.reason } : null },
      portal: { configured: portal.configured, restartNeeded: portal.restartNeeded },
    });
  });
  router.add('GET', '/api/live', 'session', (ctx) => json(200, g.liveValues(numberParam(ctx.query, 'max', g.live.capacity))));
  router.add('GET', '/api/readings', 'session', (ctx) => {
    const from = numberParam(ctx.query, 'from', 0);
    const limit = Math.min(numberParam(ctx.query, 'limit', MAX_ENTRIES_PER_REQUEST), MAX_ENTRIES_PER_REQUEST);
    if (!g.log) return json(503, { error: 'the reading log is not open' });
    return json(200, { cursor: g.log.cursor, next: g.log.next, entries: g.log.read(from, limit).map(entryJson) });
  });
  // The event log from flash, oldest first, a page at a time; the first page also says whether the chain holds.
  router.add('GET', '/api/events', 'session', (ctx) => {
    const kind = queryParam(ctx.query, 'kind');
    const kinds = EVENT_KINDS as readonly string[];
    if (kind && kinds.indexOf(kind) < 0) throw new HttpError(400, 'kind must be one of ' + kinds.join(', '));
    const from = numberParam(ctx.query, 'from', 0);
    const page = g.events.read({ kinds: kind ? [kind as EventKind] : undefined, from, limit: numberParam(ctx.query, 'limit', 50) });
    return json(200, { kinds, events: page.events, next: page.next, chain: from === 0 ? g.events.verify() : null });
  });

  // ---- actions ----
  router.add('POST', '/api/readings/demand', 'session', () => {
    if (demand?.state === 'pending') return json(409, { error: 'a reading on demand is already being taken' });
    demand = { state: 'pending' };
    g.readNow((error, entry) => {
      demand = error || !entry ? { state: 'failed', error: error ? error.message : 'no reading' } : { state: 'done', entry };
    });
    // Refused at once (no time yet) or, rarely, answered at once; usually taken from the next telegram.
    const state = demandJson().state;
    return json(state === 'pending' ? 202 : state === 'done' ? 201 : 503, demandJson());
  });
  router.add('GET', '/api/readings/demand', 'session', () => (demand ? json(200, demandJson()) : json(404, { error: 'no reading on demand was asked for' })));
  router.add('POST', '/api/uplink/now', 'session', () =>
    g.uploadNow() ? json(202, { state: 'uploading' }) : json(409, { error: 'the device is not enrolled with a backend' }),
  );
  router.add('POST', '/api/restart', 'session', () => {
    g.event('config', 'restart asked for in the portal');
    restartSoon('the portal\'s restart button');
    return json(202, { restarting: true }, { 'set-cookie': portal.auth.resumeCookie() });
  });
  router.add('POST', '/api/factory-reset', 'session', (ctx) => {
    if (ctx.body().confirm !== 'factory reset') throw new HttpError(400, 'confirm with "factory reset"');
    g.event('config', 'factory reset asked for in the portal');
    portal.auth.logoutAll();
    clock.after(RESTART_DELAY_MS, () => {
      // The gateway stops first (it saves its counters on the way out): nothing is written after the wipe.
      g.stop();
      wipeKeyValues(kv);
      g.prepareRestart('factory reset');
      const { flash } = g.ports;
      const sectors = flash.size / flash.sectorSize;
      let sector = 0;
      const erase = () => {
        for (let k = 0; k < ERASE_PER_TICK && sector < sectors; k++) flash.erase(sector++);
        if (sector < sectors) clock.after(10, erase);
        else system.restart();
      };
      erase();
    });
    return json(202, { resetting: true }, { 'set-cookie': sessionCookie(null) });
  });
  router.add('GET', '/api/export', 'session', () =>
    json(200, exportConfig(kv, g.settings, g.firmware), { 'content-disposition': 'attachment; filename="smgw-lite-config.json"' }),
  );

  // ---- configuration ----
  router.add('GET', '/api/config', 'session', () =>
    json(200, { settings: g.settings, mqtt: loadMqtt(kv), secretsSet: secretsSet(kv), configured: portal.configured, restartNeeded: portal.restartNeeded, meterDescription: describeMeter(g.settings.meter), zones: zoneNames() }),
  );
  router.add('POST', '/api/setup/password', 'session', (ctx) => {
    const body = ctx.body();
    const password = stringField(body, 'password', 64);
    const apPassword = stringField(body, 'apPassword', 63, false);
    if (apPassword) setAccessPointPassword(kv, apPassword);
    else if (!kv.get('apPassword')) throw new HttpError(400, 'choose a password for the access point too (8 to 63 characters)');
    portal.auth.setPassword(password);
    // The one who set it stays logged in with a fresh session; every other session ends.
    const session = portal.auth.open();
    portal.changed('admin password set' + (apPassword ? ', access point password set' : ''));
    return json(200, { csrf: session.csrf }, { 'set-cookie': sessionCookie(session) });
  });
  router.add('POST', '/api/wifi/scan', 'session', () => {
    if (portal.scan.state !== 'scanning') {
      portal.scan = { state: 'scanning', networks: portal.scan.networks };
      network.scan((networks) => {
        portal.scan = { state: 'done', networks: networks.sort((a, b) => b.rssi - a.rssi).slice(0, 20) };
      });
    }
    return json(202, portal.scan);
  });
  router.add('GET', '/api/wifi/scan', 'session', () => json(200, portal.scan));
  router.add('POST', '/api/setup/wifi', 'session', (ctx) => {
    owner();
    g.settings = setWifi(kv, g.settings, ctx.body());
    portal.changed(`Wi-Fi network "${g.settings.wifi.ssid}"`);
    return json(200, { ssid: g.settings.wifi.ssid, secretsSet: secretsSet(kv) });
  });
  router.add('POST', '/api/meter/detect', 'session', () => {
    owner();
    if (!portal.detector.running) {
      g.reader.stop();
      const keys = loadKeys(kv);
      portal.detector.start(keys.key, () => {
        keys.key?.fill(0);
        g.startReader();
        portal.readerSince = clock.uptime();
      });
    }
    return json(202, portal.detector.state);
  });
  router.add('GET', '/api/meter/detect', 'session', () => json(200, portal.detector.state));
  // Stopped by the user: the gateway gets the line back, the settings stay as they were.
  router.add('DELETE', '/api/meter/detect', 'session', () => {
    if (portal.detector.running) {
      portal.detector.stop();
      portal.detector.state = { state: 'none', message: 'auto-detect stopped: enter the settings by hand, or run it again' };
      g.startReader();
      portal.readerSince = clock.uptime();
    }
    return json(200, portal.detector.state);
  });
  router.add('POST', '/api/setup/meter', 'session', (ctx) => {
    owner();
    // Saving now would store what the form showed before detection ended (the defaults, often): wait for it.
    if (portal.detector.running) return json(409, { error: 'auto-detect is still listening: wait for its result (or stop it) before saving the meter', detecting: true });
    const body = ctx.body();
    const meter = parseMeter(body);
    // A meter no telegram was seen from is saved only when the owner says so after being told.
    if (!portal.seen(meter) && body.unseen !== true) {
      return json(409, { error: `no telegram has been seen with ${describeMeter(meter)}: run Auto-detect, check the settings, or save anyway`, unseen: true });
    }
    g.settings = setMeter(kv, g.settings, body);
    portal.changed('meter: ' + describeMeter(g.settings.meter) + (portal.seen(meter) ? '' : ' (saved before any telegram was seen with it)'));
    return json(200, { meter: g.settings.meter, description: describeMeter(g.settings.meter) });
  });
  router.add('POST', '/api/setup/keys', 'session', (ctx) => {
    owner();
    setKeys(kv, ctx.body());
    const set = secretsSet(kv);
    portal.changed(`meter keys: decryption key ${set.meterKey ? 'set' : 'not set'}, authentication key ${set.authKey ? 'set' : 'not set'}`);
    return json(200, { secretsSet: set });
  });
  router.add('POST', '/api/setup/backend', 'session', (ctx) => {
    owner();
    g.settings = setBackend(kv, g.settings, ctx.body());
    const u = g.settings.uplink;
    portal.changed(u.url ? `backend ${u.url}, device ${u.deviceId} (${u.auth})` : 'backend removed');
    return json(200, { uplink: u, secretsSet: secretsSet(kv) });
  });
  router.add('POST', '/api/setup/taf', 'session', (ctx) => {
    owner();
    g.settings = setTaf(kv, g.settings, ctx.body());
    const t = g.settings.taf;
    portal.changed(`TAF 7 every ${t.period} min, TAF 14 every ${t.live} s, zone ${g.settings.zone}, time server ${g.settings.sntp}`);
    return json(200, { taf: t, zone: g.settings.zone, sntp: g.settings.sntp });
  });
  router.add('POST', '/api/setup/mqtt', 'session', (ctx) => {
    owner();
    setMqtt(kv, ctx.body());
    const m = loadMqtt(kv);
    portal.changed(m ? `MQTT broker ${m.host}:${m.port}` : 'MQTT off');
    return json(200, { mqtt: m, secretsSet: secretsSet(kv) });
  });
  router.add('POST', '/api/setup/finish', 'session', () => {
    owner();
    if (!g.settings.wifi.ssid) throw new HttpError(400, 'choose the Wi-Fi network first');
    markSetupDone(kv);
    portal.changed('setup finished');
    restartSoon('setup finished in the portal');
    return json(202, { restarting: true }, { 'set-cookie': portal.auth.resumeCookie() });
  });
}

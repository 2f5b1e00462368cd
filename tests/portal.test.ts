// The portal on the simulated device, in process: captive-portal probes, the
// login and its limits, CSRF, write-only secrets, auto-detect, restart and
// factory reset. Each device runs the real firmware on the virtual clock;
// requests reach its HTTP handler as the socket server would pass them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JUNE } from './support/sim';
import { PortalClient, type PortalAnswer } from './support/portal';
import type { Simulation } from '../simulator/runner';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Pki, toPem } from '../backend/pki';

const MINUTE = 60000;
const ROOT = join(__dirname, '..');
const PROBES = ['/generate_204', '/gen_204', '/hotspot-detect.html', '/library/test/success.html', '/connecttest.txt', '/ncsi.txt', '/redirect'];
const INITIAL = 'smgw-lite-setup';

/** Runs `steps` at their virtual times (ms after the start) on a device, one after another; returns the run's log. */
async function drive(sim: Simulation, steps: [number, () => Promise<void> | void][]): Promise<{ errors: unknown[] }> {
  const errors: unknown[] = [];
  for (const [at, step] of steps) {
    sim.scheduler.at(JUNE + at, async () => {
      try {
        await step();
      } catch (e) {
        errors.push(e);
      }
    });
  }
  await sim.run();
  return { errors };
}

async function device(setup: 'portal' | 'provisioned', lines: string[], minutes = 30) {
  const { Simulation } = await import('../simulator/runner');
  return new Simulation({ meter: 'dlms-mbus', seed: 5, from: JUNE, until: JUNE + minutes * MINUTE, speed: 'max', faults: [], setup, log: (l) => lines.push(l) });
}

describe('captive portal probes', () => {
  it('redirect to the setup page before setup, and answer as the internet does after', async () => {
    const lines: string[] = [];
    const sim = await device('portal', lines);
    const c = new PortalClient(sim);
    const before: PortalAnswer[] = [];
    const after: PortalAnswer[] = [];
    let ap: unknown = null;
    const { errors } = await drive(sim, [
      [10000, async () => {
        ap = { ...sim.device.boot!.network.accessPoint, dns: sim.device.boot!.network.dns };
        for (const p of PROBES) before.push(await c.call('GET', p, undefined, { host: 'connectivitycheck.gstatic.com' }));
        // Another site's page while not set up goes to the portal too.
        before.push(await c.call('GET', '/some/page', undefined, { host: 'example.com' }));
        await c.login(INITIAL);
        const set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        expect(set.status).toBe(200);
        c.csrf = set.json().csrf;
        const r = await c.call('POST', '/api/setup/wifi', { ssid: 'Home', password: 'correct horse battery' });
        expect(r.status).toBe(200);
        expect((await c.call('POST', '/api/setup/finish')).status).toBe(202);
      }],
      [5 * MINUTE, async () => {
        for (const p of PROBES) after.push(await c.call('GET', p, undefined, { host: 'captive.apple.com' }));
        ap = [ap, sim.device.boot!.network.accessPoint];
      }],
    ]);
    expect(errors).toEqual([]);
    for (const r of before) {
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('http://192.168.4.1/#setup');
    }
    expect(ap).toEqual([{ ssid: 'SMGW.Lite', password: INITIAL, dns: '192.168.4.1' }, null]);
    expect(after.map((r) => r.status)).toEqual([204, 204, 200, 200, 200, 200, 204]);
    expect(after[2].text).toContain('Success');
    expect(after[4].text).toBe('Microsoft Connect Test');
    expect(after[5].text).toBe('Microsoft NCSI');
    // Setup ended in a restart; the configured device joined the home Wi-Fi and left the access point closed.
    expect(sim.device.boots.map((b) => b.cause)).toEqual(['power-on', 'restart']);
    expect(lines.filter((l) => l.startsWith('portal: access point SMGW.Lite open'))).toEqual(['portal: access point SMGW.Lite open at 192.168.4.1 (not set up)']);
    // Before setup the console claims no meter; after it, it says which line it reads (the wizard kept the default meter).
    expect(lines.filter((l) => l.startsWith('smgw-lite '))).toEqual([
      "smgw-lite 0.2.0: the meter is not set up yet: the portal's setup wizard asks for it (until then the line is read as sml on the optical port)",
      'smgw-lite 0.2.0: reading sml on the optical port',
    ]);
  }, 60_000);

  it('a set-up device whose Wi-Fi does not come up opens the access point after 30 s, with the owner\'s access point password', async () => {
    const lines: string[] = [];
    const sim = await device('provisioned', lines, 5);
    sim.world.kv.set('wifiPassword', 'not the password');
    sim.world.kv.set('apPassword', 'ap-secret-22');
    const seen: unknown[] = [];
    await drive(sim, [
      [20000, () => void seen.push(sim.device.boot!.network.accessPoint)],
      [40000, () => void seen.push({ ...sim.device.boot!.network.accessPoint, dns: sim.device.boot!.network.dns })],
    ]);
    expect(seen).toEqual([null, { ssid: 'SMGW.Lite', password: 'ap-secret-22', dns: '192.168.4.1' }]);
    expect(lines).toContain('portal: access point SMGW.Lite open at 192.168.4.1 (Wi-Fi did not come up)');
  }, 60_000);
});

describe('the setup button', () => {
  it('held at power-up, it opens the access point on a set-up device, which the home Wi-Fi does not close', async () => {
    const lines: string[] = [];
    const sim = await device('provisioned', lines, 5);
    sim.world.kv.set('apPassword', 'ap-secret-22');
    sim.world.setupButton = true;
    const seen: unknown[] = [];
    await drive(sim, [[60000, () => void seen.push(sim.device.boot!.network.isUp, sim.device.boot!.network.accessPoint)]]);
    expect(seen).toEqual([true, { ssid: 'SMGW.Lite', password: 'ap-secret-22' }]);
    expect(lines).toContain('portal: access point SMGW.Lite open at 192.168.4.1 (setup button held)');
  }, 60_000);
});

describe('login and CSRF', () => {
  it('refuses a wrong password, a missing or wrong CSRF token, and a burst of logins', async () => {
    const sim = await device('portal', []);
    const c = new PortalClient(sim);
    const seen: { [what: string]: PortalAnswer | PortalAnswer[] } = {};
    const { errors } = await drive(sim, [
      [5000, async () => {
        seen.anonymous = await c.call('GET', '/api/status');
        seen.assets = await c.call('GET', '/');
        seen.wrong = await c.call('POST', '/api/login', { password: 'guess-1234' });
        await c.login(INITIAL);
        seen.initialOnlySetsPassword = await c.call('POST', '/api/setup/wifi', { ssid: 'Home' });
        const csrf = c.csrf;
        c.csrf = '';
        seen.noCsrf = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = 'f'.repeat(32);
        seen.wrongCsrf = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = csrf;
        seen.tooShort = await c.call('POST', '/api/setup/password', { password: 'short', apPassword: 'ap-secret-22' });
        seen.set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = seen.set.json().csrf;
        // A GET needs the session but no token; a POST from another session's token is refused.
        seen.statusOk = await c.call('GET', '/api/status');
        const other = new PortalClient(sim);
        seen.initialRefused = await other.call('POST', '/api/login', { password: INITIAL });
        seen.burst = [];
        for (let i = 0; i < 4; i++) seen.burst.push(await other.call('POST', '/api/login', { password: 'wrong-' + i }));
        seen.rightButBurst = await other.call('POST', '/api/login', { password: 'owner-secret-1' });
      }],
      [5000 + 61000, async () => {
        seen.afterWindow = await c.call('POST', '/api/login', { password: 'owner-secret-1' });
      }],
    ]);
    expect(errors).toEqual([]);
    const one = (k: string) => seen[k] as PortalAnswer;
    expect(one('anonymous').status).toBe(401);
    expect(one('assets').status).toBe(200);
    expect(one('assets').headers['content-type']).toMatch(/^text\/html/);
    expect(one('wrong').status).toBe(401);
    expect(one('wrong').json()).toEqual({ error: 'wrong password' });
    expect(one('initialOnlySetsPassword').status).toBe(409);
    expect(one('noCsrf').status).toBe(403);
    expect(one('wrongCsrf').status).toBe(403);
    expect(one('tooShort').status).toBe(400);
    expect(one('set').status).toBe(200);
    expect(one('set').headers['set-cookie']).toMatch(/^smgw_session=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(one('statusOk').status).toBe(200);
    // The initial password stopped working once the owner chose one.
    expect(one('initialRefused').status).toBe(401);
    // Five attempts a minute: the wrong one, the initial login, the refused initial password, then two more.
    expect((seen.burst as PortalAnswer[]).map((r) => r.status)).toEqual([401, 401, 429, 429]);
    const limited = (seen.burst as PortalAnswer[])[2];
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error).toMatch(/too many login attempts: try again in \d+ s/);
    // Refused while the burst lasts, even with the right password; allowed again after the window.
    expect(one('rightButBurst').status).toBe(429);
    expect(one('afterWindow').status).toBe(200);
  }, 60_000);
});

describe('secrets', () => {
  it('after setting keys, a Wi-Fi password and a bundle, no page, API answer, export or log line contains them', async () => {
    const lines: string[] = [];
    const sim = await device('portal', lines, 40);
    const c = new PortalClient(sim);
    const key = '825DC0D167DEEB63F49DAB4F31A86CC7';
    const authKey = '00112233445566778899AABBCCDDEEFF';
    const wifi = 'correct horse battery';
    const token = 'tok-' + 'Zq81'.repeat(10);
    const ca = Buffer.alloc(300, 7).toString('base64');
    const bundle = JSON.stringify({ version: 1, deviceId: 'smgw-test-1', url: 'https://127.0.0.1:9', ca, auth: 'token', token });
    const texts: string[] = [];
    let detect: any = null;
    let exported: any = null;
    // A broker's own CA and a client certificate and key for it (AWS IoT Core's, say), uploaded in the MQTT step.
    const brokerPki = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-broker-ca-')));
    const thing = await brokerPki.issueDevice('thing-1');
    const mqttKey = toPem('PRIVATE KEY', thing.key);
    const mqttKeyPart = mqttKey.split('\n')[5];
    let config: any = null;
    const record = (r: PortalAnswer) => {
      texts.push(JSON.stringify(r.headers), r.text);
      return r;
    };
    const { errors } = await drive(sim, [
      [5000, async () => {
        await c.login(INITIAL);
        record(await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' }));
        c.csrf = JSON.parse(texts[texts.length - 1]).csrf;
        record(await c.call('POST', '/api/wifi/scan'));
        expect(record(await c.call('POST', '/api/meter/detect')).status).toBe(202);
      }],
      [3 * MINUTE, async () => {
        detect = record(await c.call('GET', '/api/meter/detect')).json();
        const scan = record(await c.call('GET', '/api/wifi/scan')).json();
        expect(scan.networks.map((n: { ssid: string }) => n.ssid)).toContain('Home');
        expect(record(await c.call('POST', '/api/setup/wifi', { ssid: 'Home', password: wifi })).status).toBe(200);
        expect(record(await c.call('POST', '/api/setup/meter', detect.meter)).status).toBe(200);
        expect(record(await c.call('POST', '/api/setup/keys', { key: 'not hex' })).status).toBe(400);
        expect(record(await c.call('POST', '/api/setup/keys', { key, authKey: '' })).status).toBe(200);
        expect(record(await c.call('POST', '/api/setup/backend', { bundle: '{"version":2}' })).status).toBe(400);
        expect(record(await c.call('POST', '/api/setup/backend', { bundle })).status).toBe(200);
        // The live channel's interval alone (the enrolment stays); out of range is refused with the reason.
        const live = record(await c.call('POST', '/api/setup/backend', { live: 30 }));
        expect(live.status).toBe(200);
        expect(live.json().uplink).toMatchObject({ live: 30, url: JSON.parse(bundle).url });
        const bad = record(await c.call('POST', '/api/setup/backend', { live: 5000 }));
        expect(bad.status).toBe(400);
        expect(bad.json().error).toMatch(/3600 seconds/);
        expect(record(await c.call('POST', '/api/setup/mqtt', { host: 'broker.local', port: 1883, user: 'u', password: 'mqtt-secret-9', topic: 'home' })).status).toBe(200);
        expect(record(await c.call('POST', '/api/setup/mqtt', { host: 'broker.local', key: mqttKey })).json().error).toBe('a client certificate needs its key, and a key its certificate');
        const m = record(await c.call('POST', '/api/setup/mqtt', { host: 'broker.local', port: 1883, user: 'u', topic: 'home', tls: false, clientId: 'thing-1', ca: brokerPki.ca.certificate, certificate: toPem('CERTIFICATE', thing.certificate), key: mqttKey }));
        expect(m.status).toBe(200);
        expect(m.json().mqtt).toMatchObject({ host: 'broker.local', port: 1883, clientId: 'thing-1', tls: false, omdp: true, live: true, homeAssistant: true });
        expect(m.json().secretsSet).toMatchObject({ mqttPassword: true, mqttCredentials: true });
        expect(record(await c.call('POST', '/api/setup/taf', { period: 15, live: 2, zone: 'Europe/Vienna' })).status).toBe(200);
        expect(record(await c.call('POST', '/api/setup/taf', { sntp: 'ntp server!' })).status).toBe(400);
        expect(record(await c.call('POST', '/api/setup/taf', { sntp: '192.168.1.1' })).json().sntp).toBe('192.168.1.1');
        expect(record(await c.call('POST', '/api/setup/finish')).status).toBe(202);
      }],
      [10 * MINUTE, async () => {
        await c.login('owner-secret-1');
        // The authentication key is set after the restart, from a new session.
        expect(record(await c.call('POST', '/api/setup/keys', { authKey })).status).toBe(200);
        for (const path of ['/', '/app.js', '/app.css', '/api/session', '/api/status', '/api/live', '/api/readings', '/api/events', '/api/config', '/api/wifi/scan', '/api/meter/detect']) {
          const r = record(await c.call('GET', path));
          expect(r.status, path).toBe(200);
        }
        config = record(await c.call('GET', '/api/config')).json();
        exported = record(await c.call('GET', '/api/export')).json();
      }],
    ]);
    expect(errors).toEqual([]);
    expect(detect).toMatchObject({ state: 'found', encrypted: true, meter: { protocol: 'dlms', connector: 'mbus', line: { baud: 2400, dataBits: 8, parity: 'even' } } });
    expect(detect.message).toMatch(/enter the key/);
    expect(exported.secretsSet).toEqual({ adminPassword: true, accessPointPassword: true, wifiPassword: true, meterKey: true, authKey: true, backendCredentials: true, mqttPassword: true, mqttCredentials: true });
    expect(exported.settings).toMatchObject({ wifi: { ssid: 'Home' }, zone: 'Europe/Vienna', taf: { period: 15, live: 2 }, uplink: { url: 'https://127.0.0.1:9', deviceId: 'smgw-test-1', auth: 'token' } });
    expect(config.secretsSet.meterKey).toBe(true);
    // The device decrypts with the key it was given: readings after the restart.
    expect(sim.world.kv.getBytes('meterKey')).toEqual(new Uint8Array(Buffer.from(key, 'hex')));
    const all = [...texts, ...lines, JSON.stringify(sim.world.kv.keys())];
    for (const secret of [key, key.toLowerCase(), authKey, authKey.toLowerCase(), wifi, token, 'owner-secret-1', 'ap-secret-22', 'mqtt-secret-9', mqttKeyPart]) {
      for (const t of all) expect(t.includes(secret), `${secret} in ${t.slice(0, 200)}`).toBe(false);
    }
    expect(lines.some((l) => l.startsWith('config: meter keys: decryption key set'))).toBe(true);
  }, 90_000);
});

describe('auto-detect', () => {
  /** A device out of the box on `meter`: logs in, sets the password, starts auto-detect at 5 s, and polls it each virtual second. */
  async function detect(meter: 'sml' | 'd0' | 'dsmr' | 'dlms-mbus' | 'dlms-hdlc', faults: object[] = []) {
    const { Simulation } = await import('../simulator/runner');
    const sim = new Simulation({ meter, seed: 5, from: JUNE, until: JUNE + 3 * MINUTE, speed: 'max', faults: faults as never, setup: 'portal', log: () => undefined });
    const c = new PortalClient(sim);
    const seen: { at: number; state: any }[] = [];
    let result: { at: number; state: any } | null = null;
    const steps: [number, () => Promise<void>][] = [[5000, async () => {
      await c.login(INITIAL);
      const set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
      c.csrf = set.json().csrf;
      expect((await c.call('POST', '/api/meter/detect')).status).toBe(202);
    }]];
    for (let t = 6000; t < 2 * MINUTE; t += 1000) {
      steps.push([t, async () => {
        if (result) return;
        const state = (await c.call('GET', '/api/meter/detect')).json();
        seen.push({ at: t, state });
        if (state.state !== 'running') result = { at: t - 5000, state };
      }]);
    }
    const { errors } = await drive(sim, steps);
    expect(errors).toEqual([]);
    return { sim, result: result!, tried: [...new Set(seen.filter((s) => s.state.state === 'running').map((s) => s.state.trying))] };
  }

  for (const meter of ['sml', 'd0', 'dsmr', 'dlms-mbus', 'dlms-hdlc'] as const) {
    it(`${meter}: finds the meter's own line settings, in seconds, going by what the line shows`, async () => {
      const { sim, result, tried } = await detect(meter);
      const want = { protocol: meter.startsWith('dlms') ? 'dlms' : meter, connector: sim.meter.connector, line: sim.lineSettings };
      expect(result.state).toMatchObject({ state: 'found', meter: want });
      console.log(`auto-detect ${meter}: found in ${result.at / 1000} s after trying ${tried.join(' | ')}`);
      // The settings before the right one were each left early (their line silent, or flagged, or clean but without a frame).
      expect(result.at).toBeLessThanOrEqual(10000);
    }, 60_000);
  }

  it('a meter that sends nothing: both connectors found silent, and said so, in under half a minute', async () => {
    const { result } = await detect('dlms-mbus', [{ kind: 'meter-silent', from: JUNE, to: JUNE + 10 * MINUTE }]);
    expect(result.state.state).toBe('none');
    expect(result.state.message).toMatch(/^no meter recognised on either connector/);
    console.log(`auto-detect, nothing on the line: gave up after ${result.at / 1000} s`);
    expect(result.at).toBeLessThanOrEqual(2 * 12000 + 1000);
  }, 60_000);

  it('Save waits while it listens; it can be stopped; a meter no telegram was seen from is saved only when the owner says so', async () => {
    const { Simulation } = await import('../simulator/runner');
    const lines: string[] = [];
    const sim = new Simulation({ meter: 'dlms-mbus', seed: 5, from: JUNE, until: JUNE + 5 * MINUTE, speed: 'max', faults: [], setup: 'portal', log: (l) => lines.push(l) });
    const c = new PortalClient(sim);
    const seen: { [k: string]: PortalAnswer } = {};
    const unseenMeter = { protocol: 'sml', connector: 'optical', transport: 'auto', line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1, inverted: false } };
    const { errors } = await drive(sim, [
      [5000, async () => {
        await c.login(INITIAL);
        const set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = set.json().csrf;
        seen.detect = await c.call('POST', '/api/meter/detect');
        seen.saveWhileDetecting = await c.call('POST', '/api/setup/meter', { ...unseenMeter, unseen: true });
        seen.stop = await c.call('DELETE', '/api/meter/detect');
        seen.afterStop = await c.call('GET', '/api/meter/detect');
        // The default settings: no telegram comes on the IR head (the meter is on M-Bus).
        seen.unseen = await c.call('POST', '/api/setup/meter', unseenMeter);
        seen.unseenAnyway = await c.call('POST', '/api/setup/meter', { ...unseenMeter, unseen: true });
        seen.detectAgain = await c.call('POST', '/api/meter/detect');
      }],
      [60000, async () => {
        seen.found = await c.call('GET', '/api/meter/detect');
        // What auto-detect found saves at once.
        seen.saveFound = await c.call('POST', '/api/setup/meter', seen.found.json().meter);
      }],
    ]);
    expect(errors).toEqual([]);
    expect(seen.detect.status).toBe(202);
    expect(seen.saveWhileDetecting.status).toBe(409);
    expect(seen.saveWhileDetecting.json()).toEqual({ error: 'auto-detect is still listening: wait for its result (or stop it) before saving the meter', detecting: true });
    expect(seen.stop.status).toBe(200);
    expect(seen.afterStop.json()).toEqual({ state: 'none', message: 'auto-detect stopped: enter the settings by hand, or run it again' });
    expect(seen.unseen.status).toBe(409);
    expect(seen.unseen.json()).toEqual({ error: 'no telegram has been seen with SML (IR) on the IR/P1 connector, 9600 8N1: run Auto-detect, check the settings, or save anyway', unseen: true });
    expect(seen.unseenAnyway.status).toBe(200);
    expect(seen.detectAgain.status).toBe(202);
    expect(seen.found.json().state).toBe('found');
    expect(seen.saveFound.status).toBe(200);
    expect(seen.saveFound.json().meter).toMatchObject({ protocol: 'dlms', connector: 'mbus' });
    // The event log says which meter was saved without a telegram, and which with.
    expect(lines).toContain('config: meter: SML (IR) on the IR/P1 connector, 9600 8N1 (saved before any telegram was seen with it)');
    expect(lines).toContain('config: meter: DLMS/COSEM on the M-Bus connector, 2400 8E1');
  }, 60_000);
});

describe('the restart the portal asks for', () => {
  it('gives the page a one-time ticket with which it logs in again after the restart, once, and only within minutes', async () => {
    const { RESUME_MS } = await import('../src/portal/auth');
    const lines: string[] = [];
    const sim = await device('portal', lines, 30);
    const c = new PortalClient(sim);
    const other = new PortalClient(sim);
    const seen: { [k: string]: PortalAnswer } = {};
    let stored: unknown = null;
    let afterBoot: unknown = null;
    const { errors } = await drive(sim, [
      [5000, async () => {
        await c.login(INITIAL);
        const set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = set.json().csrf;
        expect((await c.call('POST', '/api/setup/wifi', { ssid: 'Home', password: 'correct horse battery' })).status).toBe(200);
        seen.early = await c.call('POST', '/api/session/resume');
        seen.finish = await c.call('POST', '/api/setup/finish');
        stored = sim.world.kv.get('resumeTicket');
      }],
      [60000, async () => {
        afterBoot = sim.world.kv.get('resumeTicket') ?? null;
        // Someone else on the network, without the ticket: refused, and the ticket stays good.
        seen.stranger = await other.call('POST', '/api/session/resume');
        seen.oldSession = await c.call('GET', '/api/status');
        seen.resume = await c.call('POST', '/api/session/resume');
        c.csrf = seen.resume.json().csrf;
        seen.status = await c.call('GET', '/api/status');
        seen.again = await c.call('POST', '/api/session/resume');
        // The restart button gives a ticket too; this one is left until it is too old.
        seen.restart = await c.call('POST', '/api/restart');
      }],
      // The restart at 60 s, 3 s of downtime: this is well past the ticket's minutes.
      [60000 + 30000 + RESUME_MS, async () => {
        seen.late = await c.call('POST', '/api/session/resume');
      }],
    ]);
    expect(errors).toEqual([]);
    expect(seen.early.status).toBe(401);
    expect(seen.finish.status).toBe(202);
    expect(seen.finish.headers['set-cookie']).toMatch(/^smgw_resume=[0-9a-f]{32}; Path=\/api\/session\/resume; HttpOnly; SameSite=Strict; Max-Age=600$/);
    // The store keeps the ticket's hash for the next boot, never the ticket; that boot takes it off the store.
    const ticket = /^smgw_resume=([0-9a-f]{32})/.exec(seen.finish.headers['set-cookie'])![1];
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(ticket);
    expect(afterBoot).toBeNull();
    expect(sim.device.boots.map((b) => b.cause)).toEqual(['power-on', 'restart', 'restart']);
    expect(seen.stranger.status).toBe(401);
    expect(seen.oldSession.status).toBe(401);
    expect(seen.resume.status).toBe(200);
    expect(seen.resume.headers['set-cookie']).toMatch(/^smgw_session=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(seen.resume.json()).toMatchObject({ configured: true, passwordSet: true });
    expect(seen.status.status).toBe(200);
    expect(seen.again.status).toBe(401);
    expect(seen.restart.headers['set-cookie']).toMatch(/^smgw_resume=/);
    expect(seen.late.status).toBe(401);
    for (const l of lines) expect(l).not.toContain(ticket);
  }, 60_000);
});

describe('factory reset', () => {
  it('needs confirmation, then wipes settings, secrets and the reading log, and the device is unconfigured again', async () => {
    const { SIM_ADMIN_PASSWORD } = await import('../simulator/runner');
    const sim = await device('provisioned', [], 40);
    const c = new PortalClient(sim);
    const seen: { [k: string]: PortalAnswer } = {};
    let keysBefore: string[] = [];
    const { errors } = await drive(sim, [
      [20 * MINUTE, async () => {
        await c.login(SIM_ADMIN_PASSWORD);
        seen.probe = await c.call('GET', '/generate_204');
        seen.before = await c.call('GET', '/api/status');
        keysBefore = sim.world.kv.keys();
        seen.unconfirmed = await c.call('POST', '/api/factory-reset', {});
        seen.reset = await c.call('POST', '/api/factory-reset', { confirm: 'factory reset' });
      }],
      [25 * MINUTE, async () => {
        seen.oldSession = await c.call('GET', '/api/status');
        seen.probeAfter = await c.call('GET', '/generate_204');
        seen.oldPassword = await c.call('POST', '/api/login', { password: SIM_ADMIN_PASSWORD });
        await c.login(INITIAL);
        seen.after = await c.call('GET', '/api/status');
        seen.entries = await c.call('GET', '/api/readings?from=0&limit=100');
      }],
    ]);
    expect(errors).toEqual([]);
    expect(seen.probe.status).toBe(204);
    expect(seen.before.json().log.entries).toBeGreaterThan(0);
    expect(keysBefore).toEqual(expect.arrayContaining(['settings', 'adminHash', 'portal', 'wifiPassword', 'meterKey']));
    expect(seen.unconfirmed.status).toBe(400);
    expect(seen.reset.status).toBe(202);
    expect(sim.device.boots.map((b) => b.cause)).toEqual(['power-on', 'restart']);
    expect(seen.oldSession.status).toBe(401);
    expect(seen.probeAfter.status).toBe(302);
    expect(seen.oldPassword.status).toBe(401);
    const after = seen.after.json();
    // The log started over: it holds nothing from before, only the new boot's own events.
    const entries = seen.entries.json().entries as { type: string; kind: string; message: string }[];
    expect(after.log.entries).toBe(entries.length);
    expect(entries.every((e) => e.type === 'event')).toBe(true);
    expect(entries.map((e) => e.kind)).toEqual(['boot', 'firmware']);
    expect(entries[0].message).toContain('restart requested (factory reset)');
    expect(after.portal.configured).toBe(false);
    for (const k of ['settings', 'adminHash', 'portal', 'wifiPassword', 'meterKey', 'meterAuthKey', 'apPassword', 'uplinkToken', 'uplinkKey']) expect(sim.world.kv.keys()).not.toContain(k);
  }, 60_000);
});

describe('the status page', () => {
  it('says in words what is wrong with the line, and shows the refused telegram raw', async () => {
    const { SIM_ADMIN_PASSWORD } = await import('../simulator/runner');
    const lines: string[] = [];
    const sim = await device('provisioned', lines, 40);
    const c = new PortalClient(sim);
    const seen: { [k: string]: any } = {};
    const { errors } = await drive(sim, [
      [5 * MINUTE, async () => {
        await c.login(SIM_ADMIN_PASSWORD);
        seen.ok = (await c.call('GET', '/api/status')).json();
        // The key from the grid operator, mistyped.
        expect((await c.call('POST', '/api/setup/keys', { key: '00112233445566778899AABBCCDDEEFF' })).status).toBe(200);
        expect((await c.call('POST', '/api/restart')).status).toBe(202);
      }],
      [15 * MINUTE, async () => {
        await c.login(SIM_ADMIN_PASSWORD);
        seen.wrong = (await c.call('GET', '/api/status')).json();
      }],
    ]);
    expect(errors).toEqual([]);
    expect(seen.ok.diagnosis).toEqual({ level: 'ok', message: 'reading normally (decrypted)' });
    expect(seen.ok.lastTelegram.refused).toBeNull();
    // No heap figures in the simulator: its memory is Node's, not the device's (the page then shows no heap line).
    expect(seen.ok.heap).toBeNull();
    expect(seen.ok).not.toHaveProperty('freeHeap');
    expect(seen.wrong.diagnosis.level).toBe('error');
    expect(seen.wrong.diagnosis.message).toMatch(/^data but wrong key\?/);
    expect(seen.wrong.lastTelegram.refused).toMatch(/wrong key/);
    // The raw bytes of the refused telegram: the DLMS APDU the M-Bus frames carried, still encrypted
    // (general-glo-ciphering, tag DB, then the meter's 8-byte system title).
    expect(seen.wrong.lastTelegram.hex).toMatch(/^db08/i);
    expect(seen.wrong.lastTelegram.ageMs).toBeLessThan(MINUTE);
  }, 60_000);
});

describe('the line diagnosis on the status page', () => {
  async function statusAfter(meter: 'sml' | 'dlms-mbus', faults: object[], at: number) {
    const { Simulation, SIM_ADMIN_PASSWORD } = await import('../simulator/runner');
    const sim = new Simulation({ meter, seed: 9, from: JUNE, until: JUNE + at + MINUTE, speed: 'max', faults: faults as never, setup: 'provisioned', log: () => undefined });
    const c = new PortalClient(sim);
    let status: any = null;
    const { errors } = await drive(sim, [[at, async () => {
      await c.login(SIM_ADMIN_PASSWORD);
      status = (await c.call('GET', '/api/status')).json();
    }]]);
    expect(errors).toEqual([]);
    return status;
  }

  it('a meter that sends nothing: "no data on the line", and where to look', async () => {
    const s = await statusAfter('dlms-mbus', [{ kind: 'meter-silent', from: JUNE, to: JUNE + 30 * MINUTE }], 5 * MINUTE);
    expect(s.diagnosis.level).toBe('error');
    expect(s.diagnosis.message).toMatch(/^no data on the line: check that the read head sits on the meter's IR window/);
    expect(s.lastTelegram).toBeNull();
  }, 60_000);

  it('bit errors on the optical line: "CRC errors ... check the dongle\'s position"', async () => {
    const s = await statusAfter('sml', [{ kind: 'noise', rate: 2e-4 }], 10 * MINUTE);
    expect(s.diagnosis.level).toBe('warn');
    expect(s.diagnosis.message).toMatch(/^CRC errors in \d+ of \d+ telegrams: check the dongle's position/);
  }, 60_000);
});

describe('the portal pages', () => {
  const dir = join(ROOT, 'assets', 'portal');
  const files = readdirSync(dir);

  it('are at most 40 KB of HTML, CSS and JS together, and load nothing from elsewhere', () => {
    const sizes = Object.fromEntries(files.map((f) => [f, statSync(join(dir, f)).size]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    console.log(`portal assets: ${JSON.stringify(sizes)}, ${total} bytes in all`);
    expect(files.every((f) => /\.(html|css|js)$/.test(f))).toBe(true);
    expect(total).toBeLessThanOrEqual(40 * 1024);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/(src|href)=["']?(https?:)?\/\/|url\(\s*["']?(https?:)?\/\/|@import/);
  });

  it("are served with the page's security headers, the script and the stylesheet too", async () => {
    const sim = await device('portal', [], 1);
    const c = new PortalClient(sim);
    const answers: { [path: string]: PortalAnswer } = {};
    const { errors } = await drive(sim, [[5000, async () => {
      for (const path of ['/', '/index.html', '/app.js', '/app.css']) answers[path] = await c.call('GET', path);
    }]]);
    expect(errors).toEqual([]);
    const security = (r: PortalAnswer) => ({ csp: r.headers['content-security-policy'], nosniff: r.headers['x-content-type-options'], cache: r.headers['cache-control'] });
    expect(security(answers['/'])).toEqual({ csp: "default-src 'self'; frame-ancestors 'none'", nosniff: 'nosniff', cache: 'no-cache' });
    for (const path of ['/index.html', '/app.js', '/app.css']) {
      expect(answers[path].status, path).toBe(200);
      expect(security(answers[path]), path).toEqual(security(answers['/']));
    }
    expect(answers['/app.js'].headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(answers['/app.css'].headers['content-type']).toBe('text/css; charset=utf-8');
  }, 60_000);

  it('are the ESP32 build\'s resources, every one', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8'));
    expect(manifest.resources['*']).toContain('./assets/portal/*');
    const listed = /PORTAL_ASSETS = \[([^\]]*)\]/.exec(readFileSync(join(ROOT, 'hosts/moddable/assets.ts'), 'utf8'))![1];
    expect(listed.split(',').map((s) => s.trim().replace(/'/g, '')).sort()).toEqual([...files].sort());
  });
});

describe('the portal inside the XS engine', () => {
  it('logs in, sets the password and a key, reports them only as set (the same code as on the ESP32)', async () => {
    const { Simulation } = await import('../simulator/runner');
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    const lines: string[] = [];
    const sim = new Simulation({ meter: 'dlms-mbus', seed: 5, from: JUNE, until: JUNE + 5 * MINUTE, speed: 'max', faults: [], setup: 'portal', engine: xsEngine(), engineName: 'xs', log: (l) => lines.push(l) });
    const c = new PortalClient(sim);
    const seen: { [k: string]: PortalAnswer } = {};
    const { errors } = await drive(sim, [
      [10000, async () => {
        seen.probe = await c.call('GET', '/generate_204');
        seen.wrong = await c.call('POST', '/api/login', { password: 'nope-nope' });
        await c.login(INITIAL);
        seen.set = await c.call('POST', '/api/setup/password', { password: 'owner-secret-1', apPassword: 'ap-secret-22' });
        c.csrf = seen.set.json().csrf;
        seen.key = await c.call('POST', '/api/setup/keys', { key: '825DC0D167DEEB63F49DAB4F31A86CC7' });
        seen.status = await c.call('GET', '/api/status');
        seen.page = await c.call('GET', '/');
      }],
    ]);
    expect(errors).toEqual([]);
    expect(seen.probe.status).toBe(302);
    expect(seen.wrong.status).toBe(401);
    expect(seen.set.status).toBe(200);
    expect(seen.key.json().secretsSet).toMatchObject({ adminPassword: true, accessPointPassword: true, meterKey: true, authKey: false });
    expect(seen.status.status).toBe(200);
    expect(seen.status.json().firmware).toBe('0.2.0');
    // Across the XS bridge too: no heap figures from the desktop's engine.
    expect(seen.status.json().heap).toBeNull();
    expect(seen.page.text).toContain('<title>SMGW.Lite</title>');
    for (const t of [...lines, ...Object.values(seen).map((r) => r.text)]) expect(t.toUpperCase()).not.toContain('825DC0D167DEEB63F49DAB4F31A86CC7');
  }, 60_000);
});

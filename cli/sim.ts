// smgw sim: the firmware on the desktop against a virtual meter.

import { SIM_ADMIN_PASSWORD, Simulation, type SimOptions, type SimReport } from '../simulator/runner';
import { HASH_KEY, INITIAL_PASSWORD } from '../src/portal/auth';
import { setupDone } from '../src/portal/config';
import { AP_SSID } from '../src/portal/access';
import { loadSettings, validLivePush } from '../src/config/settings';
import { DEFAULT_LIVE_PUSH } from '../src/uplink/settings';
import { METER_KINDS, PV_METER_KINDS, meterKey, type MeterKind } from '../simulator/meters/index';
import { SIM_WIFI } from '../simulator/world/network';
import { SITES, type Site } from '../simulator/household';
import { parseTime } from '../simulator/faults';
import { fail, parseKey } from './usage';
import { command, parse } from './options';
import { fromHex, toHex } from '../src/codec/bytes';
import { DEFAULT_TAF, validTaf, type TafSettings } from '../src/taf/settings';
import { describeLog } from './log';
import { releaseKeyEntry } from './release';
import type { ReleaseKey } from '../src/ota/release-keys';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

export const SIM = command({
  name: 'smgw sim',
  summary: 'run the firmware in the simulator against a virtual meter, on a simulated clock, with faults (docs/simulator.md)',
  options: {
    meter: { type: 'string', choices: METER_KINDS, default: 'dlms-mbus', description: 'the virtual meter' },
    site: { type: 'string', choices: SITES, default: 'grid', description: `where it sits: at the grid connection, or at the PV inverter (--meter ${PV_METER_KINDS.join(' or ')})` },
    key: { type: 'string', value: 'HEX', description: "the virtual meter's AES-128 key, 32 hex digits (default: the demo key of the meters that encrypt)" },
    seed: { type: 'string', value: 'N', default: '1', description: 'the household and the faults: the same seed, the same run' },
    state: { type: 'string', value: 'DIR', description: "keeps the device's flash and settings (and an embedded backend's database) between runs" },
    from: { type: 'string', value: 'ISO', description: 'the simulated start (default: where the state left off, else midnight UTC today at --speed max, else now)' },
    days: { type: 'string', value: 'N', description: 'how long to run (default 1 at --speed max, else ten years: until stopped)' },
    until: { type: 'string', value: 'ISO', description: 'when to stop, instead of --days (ISO 8601, or DAYn)' },
    speed: { type: 'string', value: 'N|max', default: 'max', description: 'N times real time (1: real time, for the portal by hand), or as fast as it goes (deterministic)' },
    'portal-port': { type: 'string', value: 'P', description: "serves the device's portal on 127.0.0.1:P; a fresh device is then not set up" },
    backend: { type: 'string', value: 'none|embedded|URL', default: 'none', description: 'where the device delivers: nowhere, a backend of its own, or a backend elsewhere (with --bundle)' },
    'backend-db': { type: 'string', value: 'sqlite:FILE|postgres://...', description: "the embedded backend's database (default: SQLite in the state directory)" },
    'backend-port': { type: 'string', value: 'P', description: "the embedded backend's HTTPS port (default: any free one)" },
    bundle: { type: 'string', value: 'FILE', description: "an enrolment bundle from the backend's admin, for --backend URL" },
    'live-push': { type: 'string', value: 'S', description: `seconds between live pushes to the backend while someone watches, 0 (never) to 3600 (default ${DEFAULT_LIVE_PUSH}, 0 at --speed max)` },
    mqtt: { type: 'string', value: 'embedded|mqtt(s)://HOST:PORT', description: "publishes readings over MQTT: to the embedded backend's broker, or another (needs --backend embedded)" },
    fault: { type: 'string', value: 'SPEC', multiple: true, description: 'a fault: outage:FROM/TO, power-cut:every=5h, noise:1e-5, meter-silent:FROM/TO ... (docs/simulator.md)' },
    'meter-log': { type: 'string', value: 'FILE', description: "writes each telegram's values, as the meter meant them, as JSON lines" },
    report: { type: 'string', value: 'FILE', description: 'writes the run report (telegrams, boots, flash, the reading log) as JSON' },
    engine: { type: 'string', choices: ['node', 'xs'], default: 'node', description: 'runs the firmware on Node, or inside the XS engine (with computrons in the report)' },
    period: { type: 'string', value: 'MIN', description: "TAF 7's period for a device this run sets up: a divisor of 60 minutes (device default 15; docs/taf.md)" },
    tolerance: { type: 'string', value: 'S', description: 'how far from a boundary a telegram may be and still be its reading: 1 s up to half the period (device default 30)' },
    live: { type: 'string', value: 'S', description: "TAF 14's live-value interval, 1..60 s (device default 1)" },
    quiet: { type: 'boolean', description: 'prints neither the progress nor the summary' },
    'release-key': { type: 'string', value: 'PUB.pem', description: 'a release public key the simulated firmware accepts updates signed with (docs/ota.md)' },
  },
  examples: [
    'smgw sim --meter sml --days 7 --seed 3 --meter-log meter.jsonl --report report.json',
    'smgw sim --meter dlms-mbus --days 1 --fault noise:1e-5 --fault power-cut:every=5h --engine xs',
    'smgw sim --meter dlms-mbus --speed 1 --portal-port 8080 --state .smgw-sim --backend embedded --backend-port 8443   # npm start',
  ],
});

/** A public key file (PEM) as a compiled-in release key of the simulated firmware. */
function simReleaseKey(file: string): ReleaseKey {
  if (!existsSync(file)) fail(`no key file ${file}`);
  try {
    return releaseKeyEntry(createPublicKey(readFileSync(file)), `--release-key ${file}`);
  } catch {
    fail(`${file} is not a P-256 public key (smgw release keygen writes release-key.pub.pem)`);
  }
}

function describeUplink(u: NonNullable<SimReport['uplink']>): string {
  const ok = u.uploads.filter((x) => !x.error && x.entries);
  const last = ok[ok.length - 1];
  return (
    `uplink to ${u.backend}: ${u.entries} entries in ${u.batches} batches (${u.bytes} bytes), ${u.attempts} attempts, ${u.failures} failed` +
    (last ? `; last delivery ${last.at}, entries ${last.first}..${last.last}` : '') +
    `; ${u.pending} not yet delivered`
  );
}

/** What the wizard's Keys step needs for this virtual meter (its demo key is no one's secret; a key given with --key is not repeated). */
function meterKeyLine(meter: MeterKind, key: string | null | undefined): string {
  if (key) return `smgw sim: the virtual meter's key: the one given with --key\n`;
  const demo = meterKey(meter, null);
  return demo ? `smgw sim: the virtual ${meter} meter's key (the wizard's Keys step): ${toHex(demo).toUpperCase()}\n` : `smgw sim: the virtual ${meter} meter sends unencrypted: no key needed\n`;
}

export async function simCommand(argv: string[]): Promise<number> {
  const args = parse(SIM, argv);
  if (!args) return 0;
  const { values } = args;
  const meter: MeterKind = values.meter;
  const site: Site = values.site;
  if (site === 'pv' && !PV_METER_KINDS.includes(meter)) fail(`--site pv needs --meter ${PV_METER_KINDS.join(' or ')} (the simulated generation meter)`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  const speed = values.speed === 'max' ? 'max' : Number(values.speed);
  if (speed !== 'max' && !(speed > 0)) fail('--speed must be a positive number or max');
  if (values.days !== undefined && values.until !== undefined) fail('give --days or --until, not both');
  const backend = values.backend;
  if (backend !== 'none' && backend !== 'embedded' && !/^https?:\/\/\S+$/.test(backend)) fail('--backend must be none, embedded or a URL');
  if (values['backend-db'] !== undefined && backend !== 'embedded') fail('--backend-db is for --backend embedded');
  if (values.mqtt !== undefined && values.mqtt !== 'embedded' && !/^mqtts?:\/\/[^:/\s]+:\d+\/?$/.test(values.mqtt)) fail('--mqtt must be embedded or mqtt(s)://HOST:PORT');
  if (values.mqtt !== undefined && backend !== 'embedded') fail('--mqtt needs --backend embedded (the device is enrolled with it, and it ingests what the broker carries)');
  if (values['backend-db'] !== undefined && !/^(sqlite:|postgres(ql)?:\/\/)/.test(values['backend-db'])) fail('--backend-db must be sqlite:FILE or postgres://...');
  if (/^https?:/.test(backend) && values.bundle === undefined && values.state === undefined) fail('--backend URL needs --bundle FILE (an enrolment bundle)');
  const backendPort = values['backend-port'] === undefined ? undefined : Number(values['backend-port']);
  if (backendPort !== undefined && !(Number.isInteger(backendPort) && backendPort > 0 && backendPort < 65536)) fail('--backend-port must be a TCP port');
  let bundle: string | undefined;
  if (values.bundle !== undefined) {
    const { readFileSync } = await import('node:fs');
    try {
      bundle = readFileSync(values.bundle, 'utf8');
    } catch {
      fail(`cannot read ${values.bundle}`);
    }
  }
  const portalPort = values['portal-port'] === undefined ? undefined : Number(values['portal-port']);
  if (portalPort !== undefined && !(Number.isInteger(portalPort) && portalPort > 0 && portalPort < 65536)) fail('--portal-port must be a TCP port');
  const key = parseKey('--key', values.key);
  let from: number | undefined;
  let until: number | undefined;
  let days: number | undefined;
  try {
    from = values.from === undefined ? undefined : parseTime(values.from, 0);
    until = values.until === undefined ? undefined : parseTime(values.until, from ?? 0);
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.days !== undefined) {
    days = Number(values.days);
    if (!(days > 0)) fail('--days must be a positive number');
  }
  const taf: Partial<TafSettings> = {};
  for (const name of ['period', 'tolerance', 'live'] as const) {
    const text = values[name];
    if (text === undefined) continue;
    const n = Number(text);
    taf[name] = n;
    if (validTaf({ ...DEFAULT_TAF, ...taf })[name] !== n) fail(`--${name} ${text} is out of range (period: a divisor of 60 minutes; tolerance: 1 s up to half the period; live: 1..60 s)`);
  }
  const livePush = values['live-push'] === undefined ? undefined : Number(values['live-push']);
  if (livePush !== undefined && validLivePush(livePush) === null) fail('--live-push must be 0 (never) to 3600 seconds');
  const options: SimOptions = {
    meter,
    site,
    key: key ? fromHex(key) : null,
    seed,
    state: values.state,
    from,
    until,
    days: days ?? (speed === 'max' ? 1 : 3650),
    speed,
    portalPort,
    faults: values.fault,
    meterLog: values['meter-log'],
    report: values.report,
    engineName: values.engine,
    taf,
    backend,
    backendDb: values['backend-db'],
    backendPort,
    bundle,
    live: livePush,
    // The release key the simulated firmware is built with (docs/ota.md): updates signed with it are accepted.
    releaseKeys: values['release-key'] ? [simReleaseKey(values['release-key'])] : undefined,
    mqtt: values.mqtt,
    onStart: ({ backend: url, backendDir, householdId }) => {
      if (url && !values.quiet && speed !== 'max') {
        const pki = `${backendDir}/pki`;
        process.stdout.write(
          `smgw sim: the backend: ${url} (its CA ${pki}/ca.pem, the admin token in ${pki}/admin-token)\n` +
            `smgw sim: the household dashboard: ${url}/ (log in with the household token: cat ${pki}/household-token)\n`,
        );
        if (sim.setup === 'portal' && !loadSettings(sim.world.kv).uplink.url) {
          process.stdout.write(
            `smgw sim: for the portal's Backend step, an enrolment bundle for that household from the admin API (it holds the device's key: it stays in ${backendDir}):\n` +
              `  curl -s --cacert ${pki}/ca.pem -H "Authorization: Bearer $(cat ${pki}/admin-token)" -H content-type:application/json -d '{"householdId":"${householdId}"}' ${url}/api/v1/admin/devices > ${backendDir}/bundle.json\n`,
          );
        }
      }
    },
    log: values.quiet || speed === 'max' ? undefined : (line) => process.stdout.write(line + '\n'),
  };
  if (values.engine === 'xs') {
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    options.engine = xsEngine();
  }
  let sim: Simulation;
  try {
    sim = new Simulation(options);
  } catch (e) {
    fail((e as Error).message);
  }
  if (portalPort !== undefined) {
    const configured = sim.world.kv.get(HASH_KEY) !== undefined && setupDone(sim.world.kv);
    process.stdout.write(
      `smgw sim: ${meter} meter${site === 'pv' ? ' at the PV inverter' : ''}, speed ${speed}; the device's portal: http://127.0.0.1:${portalPort}/\n` +
        (configured
          ? `smgw sim: log in with the admin password set in the portal${sim.setup === 'provisioned' && sim.world.kv.get(HASH_KEY) ? ` (a provisioned device: ${SIM_ADMIN_PASSWORD})` : ''}\n`
          : `smgw sim: the device is not set up: open http://127.0.0.1:${portalPort}/#setup and log in with the initial password ${INITIAL_PASSWORD}\n` +
            `smgw sim: (on a real device: join the Wi-Fi ${AP_SSID} with that password; the phone opens the setup page)\n` +
            `smgw sim: the simulated home Wi-Fi: ${SIM_WIFI.ssid}, password ${SIM_WIFI.password}\n` +
            meterKeyLine(meter, key)),
    );
  }
  const stop = () => sim.scheduler.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const report = await sim.run();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (!values.quiet) {
    const t = report.telegrams;
    const rejected = Object.entries(t.rejected).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    process.stdout.write(
      `${report.from} .. ${report.until}: ${t.sent} telegrams sent, ${t.decoded} decoded, rejected: ${rejected}; ` +
        `${report.boots.length} boot(s); ${report.speedup.toFixed(0)}x real time\n` +
        describeLog(report.log) +
        '\n' +
        (report.uplink ? describeUplink(report.uplink) + '\n' : '') +
        (report.mqtt ? `mqtt to ${report.mqtt.broker}: ${report.mqtt.published} readings published, ${report.mqtt.acked} acknowledged, ${report.mqtt.live} live values, ${report.mqtt.discovery} discovery configs; ${report.mqtt.connects} connection(s), ${report.mqtt.drops} dropped; ${report.mqtt.pending} readings not yet acknowledged\n` : ''),
    );
  }
  return 0;
}

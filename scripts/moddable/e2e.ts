// npm run test:moddable: the firmware on Moddable's own runtime, end to end.
// It builds the app for lin (`mcconfig -m -p lin`), runs it in mcsim under Xvfb
// with its meter port on a pty that a virtual meter (`smgw meter`) writes to,
// sets it up through its portal as the wizard does (auto-detect included), takes readings on demand,
// uploads them to the real backend (`smgw backend`, SQLite) over Moddable's
// TLS with the device's client certificate, kills mcsim mid-work and starts it
// again, and checks the backend against what the meter sent. The XS heap's
// figures, traced by the lin build every second, are summed up at the end
// (docs/esp32.md). Needs a Moddable SDK with its host tools built (MODDABLE),
// socat and Xvfb.
//
//   npm run test:moddable                 the heap as manifest.json fixes it for lin
//   npm run test:moddable -- --measure    a small heap that grows: what the app needs
//   npm run test:moddable -- --soak 60    each device runs an hour on its meter before the last checks

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../tests/support/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request as httpsRequest } from 'node:https';
import { DEMO_KEY } from '../../simulator/meters/index';
import { INITIAL_PASSWORD } from '../../src/portal/auth';
import { repositoryRoot } from '../../hosts/node/paths';
import { heapFigures, type HeapSample } from './heap';

const ROOT = repositoryRoot();
const { values: args } = parseArgs({ options: { measure: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, soak: { type: 'string', default: '0' } } });
/** Minutes each device runs on its meter's telegrams at the meter's own rate before the final checks (the heap over time). */
const SOAK_MINUTES = Number(args.soak);
if (!(SOAK_MINUTES >= 0)) throw new Error(`--soak takes minutes, not "${args.soak}"`);

function fail(message: string): never {
  process.stderr.write(`moddable-lin: ${message}\n`);
  process.exit(1);
}

// ---- prerequisites, in one line each ----
const MODDABLE = process.env.MODDABLE;
const TOOLS = MODDABLE ? join(MODDABLE, 'build/bin/lin/release') : '';
if (!MODDABLE || !existsSync(join(TOOLS, 'mcconfig')) || !existsSync(join(TOOLS, 'mcsim')))
  fail('needs a Moddable SDK with its lin host tools built: set MODDABLE to it (docs/esp32.md, "Moddable\'s simulator")');
for (const tool of ['socat', 'Xvfb']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`needs ${tool} (apt-get install ${tool === 'Xvfb' ? 'xvfb' : tool})`);

const work = mkdtempSync(join(tmpdir(), 'smgw-moddable-'));
const children: ChildProcess[] = [];
function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function say(line: string): void {
  process.stdout.write(`moddable-lin: ${line}\n`);
}

/** A child whose output lines are watched; `waitFor` resolves on the first line that matches. */
class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private waiters: { re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }[] = [];
  private partial = '';

  constructor(command: string, argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; log?: string } = {}) {
    this.child = spawn(command, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(this.child);
    const take = (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        if (options.log) writeFileSync(options.log, line + '\n', { flag: 'a' });
        this.check();
      }
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = w.from; i < this.lines.length; i++) {
        const m = w.re.exec(this.lines[i]);
        if (m) {
          w.resolve(m);
          return false;
        }
      }
      return true;
    });
  }

  /** The first line from `from` on that matches; fails the run when the process ends first or `limitMs` passes. */
  waitFor(re: RegExp, what: string, limitMs = 120_000, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${what}" within ${limitMs / 1000} s; last lines:\n${this.lines.slice(-15).join('\n')}`)), limitMs);
      const ended = (code: number | null, signal: string | null) => reject(new Error(`${what}: the process ended (${code ?? signal}) first; last lines:\n${this.lines.slice(-15).join('\n')}`));
      const done = (m: RegExpExecArray) => {
        clearTimeout(timer);
        this.child.off('exit', ended);
        resolve(m);
      };
      this.waiters.push({ re, from, resolve: done });
      this.child.once('exit', ended);
      this.check();
    });
  }
}


/** An SNTP server on 127.0.0.1:123 answering with this machine's clock (the device's time server in the test). */
function sntpServer(): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('message', (request, from) => {
    if (request.length < 48) return;
    const answer = Buffer.alloc(48);
    answer[0] = (0 << 6) | (4 << 3) | 4; // no leap warning, NTP v4, server
    answer[1] = 2; // stratum
    const now = Date.now() / 1000 + 2208988800;
    const seconds = Math.floor(now);
    const fraction = Math.floor((now - seconds) * 2 ** 32);
    request.copy(answer, 24, 40, 48); // originate = the client's transmit time
    for (const offset of [16, 32, 40]) {
      answer.writeUInt32BE(seconds, offset);
      answer.writeUInt32BE(fraction, offset + 4);
    }
    socket.send(answer, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => reject(new Error(`the test's SNTP server needs 127.0.0.1:123 (run as root, with no NTP server there): ${e.message}`)));
    socket.bind(123, '127.0.0.1', () => {
      socket.unref();
      resolve();
    });
  });
}

// ---- the portal, as the wizard's page talks to it ----
class Portal {
  private cookie = '';
  private csrf = '';
  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const setCookie = r.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await r.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (json && typeof json === 'object' && typeof json.csrf === 'string') this.csrf = json.csrf;
    return { status: r.status, json };
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async login(password: string): Promise<void> {
    this.cookie = '';
    this.csrf = '';
    await this.ok('POST', '/api/login', { password });
  }
}

/** Polls until `probe` answers something other than undefined (the device works in real time: seconds). */
async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 120_000): Promise<T> {
  const end = Date.now() + limitMs;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e; // the device restarting, or not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${limitMs / 1000} s${last ? ` (${(last as Error).message})` : ''}`);
}

// ---- the backend ----
interface Backend {
  url: string;
  /** The backend's embedded MQTT broker (TLS with its CA, client certificates required). */
  mqttPort: number;
  admin: (method: string, path: string, body?: unknown) => Promise<any>;
}

async function startBackend(): Promise<Backend> {
  const data = join(work, 'backend');
  const p = new Proc(process.execPath, [join(ROOT, 'bin/smgw.mjs'), 'backend', '--db', `sqlite:${join(work, 'backend.db')}`, '--port', '0', '--host', '127.0.0.1', '--data', data], { log: join(work, 'backend.log') });
  const listening = await p.waitFor(/listening on (https:\/\/\S+?); MQTT broker on mqtts:\/\/[^:\s]+:(\d+)/, 'the backend listening', 60_000);
  const url = listening[1];
  const mqttPort = Number(listening[2]);
  const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  const ca = readFileSync(join(data, 'ca.pem'));
  const admin = (method: string, path: string, body?: unknown) =>
    new Promise<any>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest(url + path, { method, ca, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const json = text ? JSON.parse(text) : null;
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`backend ${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(json);
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  return { url, mqttPort, admin };
}

// ---- the app ----
function build(portalPort: number): string {
  // Kept between runs (outside the repository): make rebuilds only what changed.
  const out = join(tmpdir(), `smgw-moddable-build${args.measure ? '-measure' : ''}`);
  mkdirSync(out, { recursive: true });
  let manifest = join(ROOT, 'manifest.json');
  if (args.measure) {
    // A small heap that grows by small steps: what it grows to is what the app needed.
    const dir = join(work, 'smgw-measure');
    mkdirSync(dir);
    manifest = join(dir, 'manifest.json');
    const creation = { chunk: { initial: 16384, incremental: 1024 }, heap: { initial: 1024, incremental: 64 } };
    writeFileSync(manifest, JSON.stringify({ include: [join(ROOT, 'manifest.json')], platforms: { lin: { creation } } }));
  }
  say(`building the app for lin (mcconfig -m -p lin${args.measure ? ', a growing heap' : ''})`);
  const env = { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${TOOLS}:${process.env.PATH}` };
  const r = spawnSync(join(TOOLS, 'mcconfig'), ['-m', '-p', 'lin', '-o', out, manifest, `portalPort=${portalPort}`], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  writeFileSync(join(work, 'build.log'), r.stdout + r.stderr);
  if (r.status !== 0) fail(`mcconfig -p lin failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => /error/i.test(l)).slice(0, 20).join('\n')}`);
  const name = args.measure ? 'smgw-measure' : 'main';
  // Every module the manifest preloads is one xsl preloads: a module that loads at run time
  // instead costs its objects in RAM (the manifest's wildcards once preloaded none of them).
  const app = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8'));
  const linked = new Set([...readFileSync(join(out, 'tmp/lin/mc/release', name, 'makefile'), 'utf8').matchAll(/-p (\S+)\.xsb/g)].map((m) => m[1]));
  const missing = [...app.preload, ...app.platforms.lin.preload].filter((m: string) => !linked.has(m));
  if (missing.length) fail(`mcconfig does not preload ${missing.join(', ')}`);
  const lib = join(out, 'bin/lin/mc/release', name, 'mc.so');
  if (!existsSync(lib)) fail(`the build made no ${lib}`);
  return lib;
}

async function startXvfb(): Promise<string> {
  const x = new Proc('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '640x480x24']);
  const display = (await x.waitFor(/^(\d+)$/, 'Xvfb display', 30_000))[1];
  return `:${display}`;
}

class Device {
  proc: Proc | null = null;
  readonly heap: HeapSample[] = [];
  constructor(readonly name: string, readonly dir: string, readonly lib: string, readonly display: string) {}

  start(): Proc {
    const release = join(this.lib, '../..');
    const p = new Proc('stdbuf', ['-o0', join(TOOLS, 'mcsim'), release, this.lib], { cwd: this.dir, env: { ...process.env, DISPLAY: this.display }, log: join(this.dir, 'mcsim.log') });
    this.proc = p;
    return p;
  }

  kill(): void {
    this.proc?.child.kill('SIGKILL');
  }

  /** Every heap line the lin build traced, from its log (all its boots). */
  readHeap(): void {
    const text = readFileSync(join(this.dir, 'mcsim.log'), 'utf8');
    for (const m of text.matchAll(/xs-heap: slots (\d+) peak (\d+) reserved (\d+) \((\d+) B each\); chunks (\d+) peak (\d+) reserved (\d+)/g)) {
      const [, slots, slotsPeak, slotsReserved, slotBytes, chunks, chunksPeak, chunksReserved] = m.map(Number);
      this.heap.push({ slots, slotsPeak, slotsReserved, slotBytes, chunks, chunksPeak, chunksReserved });
    }
  }
}

interface Truth {
  time: string;
  values: { [obis: string]: { value: number; unit: string } };
}

function truthOf(file: string): Truth[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Truth)
    : [];
}

/** Register values (energy: OBIS x.8.y) a reading and a meter telegram must agree on exactly. */
function registers(values: Truth['values']): string {
  return JSON.stringify(
    Object.keys(values)
      .filter((k) => /^1-0:\d+\.8\.\d+$/.test(k))
      .sort()
      .map((k) => [k, values[k].value, values[k].unit]),
  );
}

interface MeterCase {
  kind: 'dlms-mbus' | 'sml';
  connector: 'mbus' | 'optical';
  setup: { protocol: string; connector: string };
  key: string | null;
}

const CASES: MeterCase[] = [
  { kind: 'dlms-mbus', connector: 'mbus', setup: { protocol: 'dlms', connector: 'mbus' }, key: DEMO_KEY },
  { kind: 'sml', connector: 'optical', setup: { protocol: 'sml', connector: 'optical' }, key: null },
];

const ADMIN_PASSWORD = 'moddable-owner-1';

async function runCase(c: MeterCase, backend: Backend, householdId: string, lib: string, display: string, portalPort: number): Promise<{ delivered: number; lost: number; duplicated: number; device: Device }> {
  const dir = join(work, c.kind);
  mkdirSync(dir);
  // The meter port: a pty pair, the meter writing to one end, mcsim opening the other as ./tty-<connector>.
  const pty = new Proc('socat', ['-d', '-d', `pty,raw,echo=0,link=${join(dir, 'meter-end')}`, `pty,raw,echo=0,link=${join(dir, `tty-${c.connector}`)}`]);
  await pty.waitFor(/starting data transfer loop/, 'socat pty pair', 30_000);
  const truthFile = join(dir, 'meter.jsonl');
  new Proc(process.execPath, [join(ROOT, 'bin/smgw.mjs'), 'meter', '--meter', c.kind, '--device', join(dir, 'meter-end'), '--meter-log', truthFile], { log: join(dir, 'meter.log') });

  const bundle = await backend.admin('POST', '/api/v1/admin/devices', { householdId });
  const device = new Device(c.kind, dir, lib, display);
  const portal = new Portal(`http://127.0.0.1:${portalPort}`);
  let p = device.start();
  await p.waitFor(/portal: not set up/, `${c.kind}: first boot`, 60_000);

  // The wizard's steps.
  await until('the portal answering', async () => (await portal.call('GET', '/api/session')).status < 500 || undefined, 30_000);
  await portal.login(INITIAL_PASSWORD);
  await portal.ok('POST', '/api/setup/password', { password: ADMIN_PASSWORD, apPassword: 'moddable-ap-22' });
  await portal.ok('POST', '/api/setup/wifi', { ssid: 'Home', password: 'correct horse battery' });
  // Auto-detect, as the wizard does; on lin the line format is not set, so the first setting that hears frames on the right connector wins.
  await portal.ok('POST', '/api/meter/detect');
  const found = await until(`${c.kind}: auto-detect`, async () => {
    const d = await portal.ok('GET', '/api/meter/detect');
    if (d.state === 'none') throw new Error(`auto-detect found nothing: ${d.message}`);
    return d.state === 'found' ? d : undefined;
  }, 180_000);
  if (found.meter.protocol !== c.setup.protocol || found.meter.connector !== c.setup.connector) throw new Error(`${c.kind}: auto-detect found ${found.description}`);
  await portal.ok('POST', '/api/setup/meter', found.meter);
  if (c.key) await portal.ok('POST', '/api/setup/keys', { key: c.key });
  await portal.ok('POST', '/api/setup/backend', { bundle: JSON.stringify(bundle) });
  await portal.ok('POST', '/api/setup/taf', { period: 15, live: 2, zone: 'Europe/Berlin', sntp: '127.0.0.1' });
  // MQTT to the backend's own broker, over Moddable's TLS with the enrolment bundle's certificate.
  await portal.ok('POST', '/api/setup/mqtt', { host: '127.0.0.1', port: backend.mqttPort, tls: true, omdp: true, live: false, homeAssistant: true });
  const mark = p.lines.length;
  await portal.ok('POST', '/api/setup/finish');
  // The device restarts itself (lin-restart: the same process, booted again).
  await p.waitFor(/boot: restart requested/, `${c.kind}: restart after setup`, 60_000, mark);
  await until(`${c.kind}: logged in after the restart`, async () => {
    await portal.login(ADMIN_PASSWORD);
    return true;
  });
  await until(`${c.kind}: the time from SNTP`, async () => ((await portal.ok('GET', '/api/status')).time.now ? true : undefined), 120_000);

  const acknowledged: string[] = [];
  const demand = async () => {
    const first = await portal.call('POST', '/api/readings/demand');
    if (first.status !== 201 && first.status !== 202) throw new Error(`reading on demand refused: ${first.status} ${JSON.stringify(first.json)}`);
    const done = await until(`${c.kind}: reading on demand`, async () => {
      const r = (await portal.ok('GET', '/api/readings/demand')) as { state: string; entry?: { time: string }; error?: string };
      if (r.state === 'failed') throw new Error(`reading on demand failed: ${r.error}`);
      return r.state === 'done' ? r : undefined;
    }, 60_000);
    acknowledged.push(done.entry!.time);
  };
  await demand();
  await demand();
  await portal.ok('POST', '/api/uplink/now');
  // Killed in the middle of work: an upload under way, TLS half done or the answer not yet in flash.
  device.kill();
  await new Promise((r) => device.proc!.child.once('exit', r));
  say(`${c.kind}: mcsim killed during an upload; starting it again`);
  p = device.start();
  await p.waitFor(/boot: power-on or reset/, `${c.kind}: boot after the kill`, 60_000);
  await until(`${c.kind}: logged in after the kill`, async () => {
    await portal.login(ADMIN_PASSWORD);
    return true;
  });
  await until(`${c.kind}: the time again`, async () => ((await portal.ok('GET', '/api/status')).time.now ? true : undefined), 120_000);
  await demand();
  // The live channel and the pages a user opens, for the heap figures.
  const pages = async () => {
    for (const page of ['/', '/app.js', '/app.css', '/api/live', '/api/events', '/api/readings']) await portal.call('GET', page);
  };
  await pages();
  // The soak: telegrams at the meter's rate, TAF 7 readings each quarter hour, an upload and the pages every ten minutes.
  for (let minute = 10; minute <= SOAK_MINUTES; minute += 10) {
    await new Promise((r) => setTimeout(r, 10 * 60_000));
    await pages();
    await portal.ok('POST', '/api/uplink/now');
    say(`${c.kind}: soak, ${minute} of ${SOAK_MINUTES} min`);
  }
  await portal.ok('POST', '/api/uplink/now');
  const meters = await until(`${c.kind}: the backend holding the device's meter`, async () => {
    const m = (await backend.admin('GET', '/api/v1/meters')) as { meters: { id: string; deviceId?: string }[] };
    return m.meters.find((x) => x.deviceId === bundle.deviceId) ?? undefined;
  });
  const window = `from=${new Date(Date.now() - 86400000).toISOString()}&to=${new Date(Date.now() + 3600000).toISOString()}`;
  const held = await until(`${c.kind}: every acknowledged reading in the backend`, async () => {
    const r = (await backend.admin('GET', `/api/v1/meters/${meters.id}/readings?${window}`)) as { readings: { time: string; kind: string; values: Truth['values'] }[] };
    const status = await portal.ok('GET', '/api/status');
    return acknowledged.every((t) => r.readings.some((x) => x.time === t)) && status.uplink?.pending === 0 ? r.readings : undefined;
  }, 180_000);

  // Exactly what the meter sent: every reading's registers are those of a telegram in the meter's log.
  const truth = new Set(truthOf(truthFile).map((t) => registers(t.values)));
  const wrong = held.filter((r) => !truth.has(registers(r.values)));
  if (wrong.length) throw new Error(`${c.kind}: ${wrong.length} readings in the backend with values the meter never sent: ${JSON.stringify(wrong[0])}`);
  const demandHeld = held.filter((r) => r.kind === 'taf6');
  const lost = acknowledged.filter((t) => !held.some((x) => x.time === t)).length;
  const times = held.map((r) => `${r.kind} ${r.time}`);
  const duplicated = times.length - new Set(times).size;
  // Delivered over MQTT too, each acknowledged by the broker (PUBACK): the backend stored them once.
  const mqtt = await until(`${c.kind}: readings published over MQTT and acknowledged`, async () => {
    const m = (await portal.ok('GET', '/api/status')).mqtt;
    return m?.state === 'connected' && m.acked > 0 && m.pending === 0 ? m : undefined;
  }, 180_000);
  say(`${c.kind}: MQTT: the log published to its end (${mqtt.acked} acknowledged by the broker since the last boot)`);
  // The status page's heap line: the XS heap's own figures on Moddable.
  const heapShown = (await portal.ok('GET', '/api/status')).heap;
  if (!(heapShown?.slotsTotal > 0 && heapShown.slotsUsed > 0 && heapShown.chunkBytesTotal > 0)) throw new Error(`${c.kind}: /api/status shows no XS heap: ${JSON.stringify(heapShown)}`);
  // The device's own log and the backend agree entry for entry.
  type LogPage = { cursor: number; next: number; entries: { seq: number; type: string; time?: string }[] };
  const log: LogPage = await portal.ok('GET', '/api/readings?from=1');
  // A page holds at most 100 entries: a soak writes more.
  for (let from = log.entries.at(-1)!.seq + 1; from < log.next; ) {
    const page = (await portal.ok('GET', `/api/readings?from=${from}`)) as LogPage;
    if (!page.entries.length) break;
    log.entries.push(...page.entries);
    from = page.entries.at(-1)!.seq + 1;
  }
  const uploaded = log.entries.filter((e) => e.type === 'reading' && e.seq <= log.cursor).map((e) => e.time!).sort();
  const backendTimes = held.map((r) => r.time).sort();
  if (JSON.stringify(uploaded) !== JSON.stringify(backendTimes)) throw new Error(`${c.kind}: the device's acknowledged readings ${uploaded.join(', ')} are not the backend's ${backendTimes.join(', ')}`);
  say(`${c.kind}: ${held.length} readings in the backend (${demandHeld.length} on demand), the device's log ${log.entries.length} entries`);

  // A revoked device is refused: the next upload fails, and its reading stays on the device.
  await backend.admin('POST', `/api/v1/admin/devices/${bundle.deviceId}/revoke`);
  await demand();
  await portal.ok('POST', '/api/uplink/now');
  const refused = await until(`${c.kind}: the revoked device refused`, async () => {
    const u = (await portal.ok('GET', '/api/status')).uplink;
    return u?.lastError ? u : undefined;
  });
  if (!/403|revoked/.test(refused.lastError)) throw new Error(`${c.kind}: a revoked device's upload failed, but not as refused: ${refused.lastError}`);
  if (refused.pending < 1) throw new Error(`${c.kind}: the refused reading is not kept on the device`);
  const after = (await backend.admin('GET', `/api/v1/meters/${meters.id}/readings?${window}`)) as { readings: unknown[] };
  if (after.readings.length !== held.length) throw new Error(`${c.kind}: a revoked device's reading reached the backend`);
  say(`${c.kind}: after revocation the backend refuses the device (${refused.lastError}); its reading waits on the device`);
  device.kill();
  pty.child.kill('SIGKILL');
  device.readHeap();
  return { delivered: held.length, lost, duplicated, device };
}

async function main(): Promise<void> {
  await sntpServer();
  const backend = await startBackend();
  const { household } = await backend.admin('POST', '/api/v1/admin/households', { name: 'Moddable lin' });
  const portalPort = await freePort();
  const lib = build(portalPort);
  const display = await startXvfb();
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  const heap: HeapSample[] = [];
  for (const c of CASES) {
    const r = await runCase(c, backend, household.id, lib, display, portalPort);
    delivered += r.delivered;
    lost += r.lost;
    duplicated += r.duplicated;
    heap.push(...r.device.heap);
  }
  const figures = heapFigures(heap);
  const out = join(ROOT, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `moddable-heap${args.measure ? '-measured' : ''}.json`), JSON.stringify({ measure: args.measure, ...figures, at: new Date().toISOString() }, null, 2) + '\n');
  say(`XS heap on lin: slots ${figures.slotsPeak} peak of ${figures.slotsReserved} reserved (${figures.slotBytes} B each); chunks ${figures.chunksPeak} B peak of ${figures.chunksReserved} B reserved`);
  process.stdout.write(`moddable-lin: ${delivered} readings delivered, ${lost} lost, ${duplicated} duplicated\n`);
  if (lost || duplicated) process.exitCode = 1;
}

// The backend, Xvfb and the meters are children with pipes open: end them (cleanup, on exit) rather than wait.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => fail((e as Error).message),
);

// Firmware updates: from the backend (it offers one in its upload
// acknowledgement) or from the portal (an image file the user uploads), both
// through the same checks. docs/ota.md describes the whole cycle.
//
// 1. The 192-byte signed header first: signature under a compiled-in release
//    key, target hardware, size, version (verify.ts). Nothing is written
//    before it passes.
// 2. The image into the inactive slot, in pieces (HTTP Range requests to the
//    backend over the same mutual TLS as the uplink). Progress is kept in the
//    key-value store after every piece: after an outage the download goes on
//    where it stopped, after a power cut too where the slot allows it.
// 3. The slot read back and hashed: the SHA-256 must be the header's. Then
//    the boot slot switches and the device restarts.
// 4. The new image's first boot is "pending-verify": it runs a self-test (a
//    meter reading decoded, the event log readable and its chain whole, the
//    backend reached) and only then marks itself valid. A failed self-test
//    rolls back at once; a restart before it passes (a crash, a power cut)
//    makes the bootloader go back to the previous image.
//
// Every step is an event of kind "update" in the tamper-evident event log,
// which the uplink delivers to the backend's device view.

import type { ClockPort, Timer } from '../ports/clock';
import type { CryptoPort } from '../ports/crypto';
import type { KeyValuePort } from '../ports/kv';
import type { OtaPort } from '../ports/ota';
import type { SystemPort } from '../ports/system';
import type { BackendClient, DeviceReport } from '../uplink/client';
import { fromHex, toHex } from '../codec/bytes';
import { describeHeader, HEADER_LENGTH, ImageError, parseHeader, versionText, type ImageHeader } from './image';
import type { ReleaseKey } from './release-keys';
import { acceptHeader } from './verify';
import { jsonText } from '../codec/json';

/** An update the backend offers in its acknowledgement (`update` in the ingest answer). */
export interface UpdateOffer {
  release: string;
  version: string;
  size: number;
  /** The backend's admin forced it although it is not newer. */
  downgrade: boolean;
}

/** What is kept across restarts while an update is under way (key-value store, JSON). */
interface Job {
  /** The backend's release id, or "local" (the portal). */
  release: string;
  /** The verified header, hex. */
  header: string;
  /** Image bytes written to the slot so far. */
  at: number;
  phase: 'download' | 'installed';
  slot: string;
  from: string;
  downgrade: boolean;
}

export interface UpdaterDeps {
  ota: OtaPort;
  crypto: CryptoPort;
  kv: KeyValuePort;
  clock: ClockPort;
  system: SystemPort;
  keys: readonly ReleaseKey[];
  /** The version running. */
  firmware: string;
  /** The backend, when the device is enrolled. */
  client: BackendClient | null;
  /** Whether the client is free for the updater: no request on its way, no delivery between its batches. */
  clientFree: () => boolean;
  report: () => DeviceReport;
  /** An event of kind "update". */
  record: (line: string) => void;
  /** Before the restart into the new image (the next boot says why). */
  prepareRestart: (reason: string) => void;
  /** The self-test's checks of the rest of the firmware. */
  meterDecoded: () => boolean;
  /** Reads the event log back and checks its chain: null when it is whole, else what is wrong. */
  logProblem: () => string | null;
}

const JOB_KEY = 'otaJob';
/** The bytes written so far, apart from the job: a piece's progress is a few bytes of NVS, not the job again. */
const AT_KEY = 'otaAt';
/** The last release refused or rolled back: not tried again when offered again. */
const REFUSED_KEY = 'otaRefused';
/**
 * Bytes per range request: one flash sector. The response is held whole in the
 * XS chunk heap, 48 KB on the ESP32 (manifest.json) for everything the
 * firmware holds; fewer bytes would cost a TLS handshake per piece for less.
 * Not yet measured on a chip: a larger piece may do (docs/ota.md).
 */
export const CHUNK = 4 * 1024;
/** Bytes read back at a time to hash the slot. */
const HASH_PIECE = 4096;
const FIRST_RETRY_MS = 60000;
const CLIENT_BUSY_RETRY_MS = 5000;
const MAX_RETRY_MS = 3600000;
/** How long a new image has to pass its self-test. */
const SELF_TEST_MS = 10 * 60000;
const SELF_TEST_POLL_MS = 10000;
const BACKEND_TEST_RETRY_MS = 30000;

export interface UpdaterStatus {
  running: { slot: string; state: string; version: string };
  job: { release: string; version: string; phase: string; at: number; size: number } | null;
  selfTest: { meter: boolean; log: boolean; backend: boolean | null } | null;
  lastError: string | null;
}

export class Updater {
  private readonly d: UpdaterDeps;
  private busy = false;
  private retry = 0;
  private timer: Timer | null = null;
  private selfTest: { meter: boolean; log: boolean; backend: boolean | null; started: number; timer: Timer | null; asking: boolean; lastAsked: number } | null = null;
  /** A download interruption has been recorded (one event, not one per retry). */
  private interrupted = false;
  private lastError: string | null = null;
  private local: { header: ImageHeader; job: Job } | null = null;
  /** The release whose write the slot has open in this boot. */
  private open: string | null = null;

  constructor(deps: UpdaterDeps) {
    this.d = deps;
  }

  /** At boot: a new image's self-test, the verdict on one that was rolled back, or a download to go on with. */
  start(): void {
    const running = this.d.ota.running();
    const job = this.load();
    if (job && job.phase === 'installed') {
      const version = versionText(parseHeader(fromHex(job.header)!).version);
      if (running.slot !== job.slot) {
        this.record(`update to ${version} rolled back: ${this.d.firmware} runs from ${running.slot} again (the new image was not marked valid before a restart)`);
        this.refuse(job.release);
        this.clear();
      } else if (running.state === 'pending-verify') {
        this.record(`update to ${version}: first boot from ${running.slot} (was ${job.from}); self-test running`);
        this.startSelfTest();
      } else {
        // A bootloader without rollback (docs/ota.md): the image is valid from its first boot.
        this.record(`update to ${version}: running from ${running.slot} (${running.state}: a bootloader without rollback; no self-test decides)`);
        this.clear();
      }
      return;
    }
    if (running.state === 'pending-verify') {
      // A pending image without a job (the key-value store was cleared): it must still prove itself.
      this.record(`firmware ${this.d.firmware} in ${running.slot} awaits verification; self-test running`);
      this.startSelfTest();
    }
    if (job && job.phase === 'download' && job.release !== 'local') this.plan(0, { release: job.release, version: '', size: 0, downgrade: job.downgrade });
    if (job && job.release === 'local') this.clear(); // a portal upload does not survive a restart: the user uploads again
  }

  stop(): void {
    if (this.timer) this.d.clock.cancel(this.timer);
    this.timer = null;
    if (this.selfTest?.timer) this.d.clock.cancel(this.selfTest.timer);
  }

  /**
   * The backend's acknowledgement said what it offers (its `update` field,
   * unchecked). Starts or continues the download; a release refused before is
   * left alone.
   */
  offered(value: unknown): void {
    const offer = parseOffer(value);
    if (!offer || this.busy || this.selfTest || this.local) return;
    if (this.d.kv.get(REFUSED_KEY) === offer.release) return;
    const job = this.load();
    if (job && job.phase === 'installed') return;
    // After the delivery that brought the offer is over: its batches have the client first.
    if (!this.timer) this.plan(0, offer);
  }

  status(): UpdaterStatus {
    const running = this.d.ota.running();
    const job = this.load();
    const h = job ? parseHeader(fromHex(job.header)!) : null;
    const t = this.selfTest;
    return {
      running: { ...running, version: this.d.firmware },
      job: job && h ? { release: job.release, version: versionText(h.version), phase: job.phase, at: job.at, size: h.size } : null,
      selfTest: t ? { meter: t.meter, log: t.log, backend: t.backend } : null,
      lastError: this.lastError,
    };
  }

  private record(line: string): void {
    this.d.record(line);
  }

  private load(): Job | null {
    const text = this.d.kv.get(JOB_KEY);
    if (!text) return null;
    try {
      const j = JSON.parse(text) as Job;
      const at = Number(this.d.kv.get(AT_KEY) ?? 0);
      if (typeof j.header !== 'string' || fromHex(j.header)?.length !== HEADER_LENGTH || !Number.isInteger(at) || at < 0) return null;
      j.at = at;
      return j;
    } catch {
      return null;
    }
  }

  /** Keeps the job; its progress first, so that a power cut between the two never pairs a new job with an old job's progress. */
  private save(job: Job): void {
    this.d.kv.set(AT_KEY, String(job.at));
    this.d.kv.set(JOB_KEY, jsonText({ ...job, at: 0 }));
  }

  private saveProgress(job: Job): void {
    this.d.kv.set(AT_KEY, String(job.at));
  }

  private clear(): void {
    this.d.kv.delete(JOB_KEY);
    this.d.kv.delete(AT_KEY);
  }

  private refuse(release: string): void {
    this.d.kv.set(REFUSED_KEY, release);
  }

  private context(downgrade: boolean) {
    const o = this.d.ota;
    return { crypto: this.d.crypto, keys: this.d.keys, hardware: o.hardware, slotSize: o.slotSize, running: this.d.firmware, downgrade };
  }

  private plan(ms: number, offer: UpdateOffer): void {
    if (this.timer) this.d.clock.cancel(this.timer);
    this.timer = this.d.clock.after(ms, () => {
      this.timer = null;
      // Returned, so that the host sees a failure the download could not handle (the simulator's power cuts).
      return this.download(offer);
    });
  }

  /** Downloads (or goes on downloading) an offered release into the inactive slot, then installs it. */
  private async download(offer: UpdateOffer): Promise<void> {
    const client = this.d.client;
    if (!client || this.busy) return;
    if (!this.d.clientFree()) {
      this.plan(CLIENT_BUSY_RETRY_MS, offer);
      return;
    }
    this.busy = true;
    const path = '/api/v1/firmware/' + encodeURIComponent(offer.release);
    let job = this.load();
    let version = offer.version;
    try {
      let header: ImageHeader;
      if (!job || job.phase !== 'download' || job.release !== offer.release) {
        const bytes = await client.getRange(path, 0, HEADER_LENGTH - 1, this.d.report());
        header = acceptHeader(bytes, this.context(offer.downgrade));
        version = versionText(header.version);
        job = { release: offer.release, header: toHex(bytes), at: 0, phase: 'download', slot: this.d.ota.inactiveSlot(), from: this.d.firmware, downgrade: offer.downgrade };
        // Kept before the slot is touched: a power cut while it is erased leaves a job that starts it over.
        this.save(job);
        this.d.ota.open(header.size, 0);
        this.open = job.release;
        const forced = offer.downgrade ? `, downgrade from ${this.d.firmware} forced by the backend's admin` : '';
        this.record(`update ${describeHeader(header)} offered${forced}: signature ok; downloading into ${job.slot}`);
      } else {
        // Checked again: the release keys or the running version may differ since it started.
        header = acceptHeader(fromHex(job.header)!, this.context(job.downgrade));
        version = versionText(header.version);
        if (this.open !== job.release) {
          // Since the restart the slot is not open: it opens where the written bytes end, or from the start.
          const at = this.d.ota.resumable ? job.at : 0;
          this.d.ota.open(header.size, at);
          this.open = job.release;
          this.record(`update ${version}: after a restart the download goes on at byte ${at} of ${header.size}${at !== job.at ? ` (the slot cannot resume at ${job.at})` : ''}`);
          job.at = at;
          this.saveProgress(job);
        }
      }
      while (job.at < header.size) {
        if (!this.d.clientFree()) {
          // A delivery or a live push wants the client: they go first, the download goes on after them.
          this.plan(CLIENT_BUSY_RETRY_MS, offer);
          return;
        }
        const n = Math.min(CHUNK, header.size - job.at);
        const piece = await client.getRange(path, HEADER_LENGTH + job.at, HEADER_LENGTH + job.at + n - 1, this.d.report());
        this.d.ota.write(piece);
        job.at += n;
        this.saveProgress(job);
      }
      this.retry = 0;
      this.interrupted = false;
      this.install(header, job);
      this.d.prepareRestart(`update to ${version}`);
      this.d.system.restart();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.lastError = message;
      if (e instanceof ImageError) {
        this.d.ota.cancel();
        this.open = null;
        this.clear();
        this.refuse(offer.release);
        this.record(`update ${version || offer.release} refused: ${message}; ${this.d.firmware} keeps running`);
      } else {
        // The network or the backend: the download goes on later from where it is.
        this.retry = this.retry ? Math.min(MAX_RETRY_MS, this.retry * 2) : FIRST_RETRY_MS;
        if (!this.interrupted && job) this.record(`update ${version}: download interrupted at byte ${job.at} (${message.slice(0, 60)}); it goes on later`);
        this.interrupted = true;
        this.plan(this.retry, offer);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The image is in the slot: its hash checked against the signed header, the boot slot switched; the caller restarts. */
  private install(header: ImageHeader, job: Job): void {
    const stream = this.d.crypto.sha256Stream();
    for (let at = 0; at < header.size; at += HASH_PIECE) stream.update(this.d.ota.read(at, Math.min(HASH_PIECE, header.size - at)));
    const digest = stream.digest();
    let same = digest.length === header.sha256.length;
    for (let i = 0; same && i < digest.length; i++) same = digest[i] === header.sha256[i];
    const version = versionText(header.version);
    if (!same) throw new ImageError(`what ${job.slot} holds has SHA-256 ${toHex(digest).slice(0, 12)}..., signed ${toHex(header.sha256).slice(0, 12)}...: altered`);
    try {
      this.d.ota.complete();
    } catch (e) {
      throw new ImageError(`not bootable: ${(e instanceof Error ? e.message : String(e)).slice(0, 60)}`);
    }
    job.phase = 'installed';
    this.save(job);
    this.record(`update ${version}: ${header.size} B in ${job.slot}, SHA-256 verified; ${job.slot} boots next: restarting`);
  }

  // ---- the portal's local update: the same checks, the image in pieces of at most a few KB ----

  /** Starts a local update with the image's first 192 bytes; throws an ImageError saying why it is refused. */
  localBegin(bytes: Uint8Array): ImageHeader {
    if (this.busy || this.local) throw new ImageError('an update is already under way');
    if (this.selfTest) throw new ImageError('the running image is still in its self-test: update once it is marked valid');
    let header: ImageHeader;
    try {
      header = acceptHeader(bytes.subarray(0, HEADER_LENGTH), this.context(false));
    } catch (e) {
      if (e instanceof ImageError) this.record(`update from the portal refused: ${e.message}; ${this.d.firmware} keeps running`);
      throw e;
    }
    const job: Job = { release: 'local', header: toHex(bytes.subarray(0, HEADER_LENGTH)), at: 0, phase: 'download', slot: this.d.ota.inactiveSlot(), from: this.d.firmware, downgrade: false };
    this.d.ota.open(header.size, 0);
    this.save(job);
    this.local = { header, job };
    this.record(`update ${describeHeader(header)} uploaded in the portal: signature ok; writing ${job.slot}`);
    return header;
  }

  /** The next piece of a local update's image, at image offset `offset` (pieces in order). */
  localWrite(offset: number, bytes: Uint8Array): number {
    const l = this.local;
    if (!l) throw new ImageError('no local update is under way: send the header first');
    if (offset !== l.job.at) throw new ImageError(`expected the piece at byte ${l.job.at}, got ${offset}`);
    if (l.job.at + bytes.length > l.header.size) throw new ImageError(`the image is ${l.header.size} bytes; this piece ends at ${l.job.at + bytes.length}`);
    this.d.ota.write(bytes);
    l.job.at += bytes.length;
    this.saveProgress(l.job);
    return l.job.at;
  }

  /**
   * Ends a local update: verified and made the next boot's image (the caller
   * restarts once its answer is out; the version is returned), or refused
   * (ImageError) with the running image untouched.
   */
  localFinish(): string {
    const l = this.local;
    if (!l) throw new ImageError('no local update is under way');
    this.local = null;
    try {
      if (l.job.at !== l.header.size) throw new ImageError(`only ${l.job.at} of ${l.header.size} bytes arrived`);
      this.install(l.header, l.job);
      return versionText(l.header.version);
    } catch (e) {
      this.d.ota.cancel();
      this.clear();
      const message = e instanceof Error ? e.message : String(e);
      this.record(`update ${versionText(l.header.version)} from the portal refused: ${message.slice(0, 90)}; ${this.d.firmware} keeps running`);
      throw e instanceof ImageError ? e : new ImageError(message);
    }
  }

  /** Abandons a local update (the user cancelled, or the upload broke off). */
  localCancel(): void {
    if (!this.local) return;
    this.local = null;
    this.d.ota.cancel();
    this.clear();
  }

  // ---- the new image's self-test ----

  private startSelfTest(): void {
    this.selfTest = { meter: false, log: false, backend: this.d.client ? false : null, started: this.d.clock.uptime(), timer: null, asking: false, lastAsked: -Infinity };
    this.selfTest.timer = this.d.clock.every(SELF_TEST_POLL_MS, () => this.checkSelfTest());
  }

  private checkSelfTest(): void {
    const t = this.selfTest;
    if (!t) return;
    const now = this.d.clock.uptime();
    if (!t.meter) t.meter = this.d.meterDecoded();
    if (!t.log) t.log = this.d.logProblem() === null;
    if (t.backend === false && !t.asking && now - t.lastAsked >= BACKEND_TEST_RETRY_MS && this.d.client && this.d.clientFree()) {
      t.asking = true;
      t.lastAsked = now;
      this.d.client.get('/api/v1/firmware', this.d.report()).then(
        () => {
          t.backend = true;
          t.asking = false;
        },
        () => {
          t.asking = false;
        },
      );
    }
    if (t.meter && t.log && t.backend !== false) {
      this.endSelfTest();
      this.d.ota.markValid();
      this.clear();
      this.record(`firmware ${this.d.firmware}: self-test passed (meter decoded, event log whole${t.backend ? ', backend reached' : ''}); ${this.d.ota.running().slot} marked valid`);
      return;
    }
    if (now - t.started >= SELF_TEST_MS) {
      const failed = [t.meter ? '' : 'no meter reading', t.log ? '' : 'event log broken', t.backend === false ? 'backend not reached' : ''].filter((s) => s);
      this.endSelfTest();
      const job = this.load();
      if (job) this.refuse(job.release);
      this.clear();
      this.record(`firmware ${this.d.firmware}: self-test failed after ${SELF_TEST_MS / 60000} min (${failed.join(', ')}): rolling back to the previous image`);
      this.d.prepareRestart(`rollback of ${this.d.firmware} (self-test failed)`);
      this.d.ota.rollback();
    }
  }

  private endSelfTest(): void {
    if (this.selfTest?.timer) this.d.clock.cancel(this.selfTest.timer);
    this.selfTest = null;
  }

  /** Whether the running image is in its self-test. */
  get testing(): boolean {
    return this.selfTest !== null;
  }
}

function parseOffer(v: unknown): UpdateOffer | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as { [k: string]: unknown };
  if (typeof o.release !== 'string' || !/^[\w.-]{1,64}$/.test(o.release)) return null;
  if (typeof o.version !== 'string' || typeof o.size !== 'number') return null;
  return { release: o.release, version: o.version, size: o.size, downgrade: o.downgrade === true };
}

// The portal's login: the admin password as a salted PBKDF2-HMAC-SHA-256 hash
// in the key-value store, sessions in RAM behind an HttpOnly SameSite=Strict
// cookie, a CSRF token per session for every state-changing request, and a
// limit on login attempts.

import type { ClockPort } from '../ports/clock';
import type { CryptoPort } from '../ports/crypto';
import type { KeyValuePort } from '../ports/kv';
import { fromHex, toHex } from '../codec/bytes';
import { utf8Encode } from '../codec/utf8';
import { HttpError, cookie } from './http';
import type { HttpRequest } from '../ports/http';

/**
 * PBKDF2 iterations. On the ESP32 the SHA accelerator computes one HMAC-SHA-256
 * in roughly 10 us, so 10,000 iterations take about 0.1-0.2 s per login: slow
 * enough that a stolen NVS dump costs an attacker 10,000 hashes per guess,
 * fast enough that the synchronous HTTP handler does not stall the meter's UART
 * (its FIFO holds about 0.5 s at 2400 baud). The count is stored with the hash,
 * so it can be raised later without locking anyone out.
 */
const PBKDF2_ITERATIONS = 10000;

/**
 * The password of an unconfigured device, for its portal and its access point
 * (also in manifest.json's config.ap and in the README). Setup replaces it;
 * once an admin password is set, this one no longer logs in.
 */
export const INITIAL_PASSWORD = 'smgw-lite-setup';

export const HASH_KEY = 'adminHash';
const SESSION_COOKIE = 'smgw_session';

/**
 * Across a restart the portal asked for, the page that asked logs in again by
 * itself: the restart's answer gives it a one-time ticket in an HttpOnly
 * cookie that only the resume route receives, the key-value store keeps the
 * ticket's SHA-256 for the next boot, and that boot takes it into RAM (and off
 * the store) and accepts it once, for a few minutes. Sessions themselves stay
 * in RAM only.
 */
const RESUME_KEY = 'resumeTicket';
const RESUME_COOKIE = 'smgw_resume';
export const RESUME_PATH = '/api/session/resume';
/** How long after the boot the ticket is accepted: the page polls every second once the device answers. */
export const RESUME_MS = 5 * 60000;
/** How long the browser keeps the ticket's cookie: a restart with a slow Wi-Fi, and some. */
const RESUME_COOKIE_S = 600;

/** Login attempts allowed per window; more are refused with 429 until the oldest leaves the window. */
const LOGIN_BURST = 5;
const LOGIN_WINDOW_MS = 60000;
/** A session ends after this long without a request. */
const SESSION_IDLE_MS = 30 * 60000;
const MAX_SESSIONS = 4;

export interface Session {
  id: string;
  csrf: string;
  lastSeen: number;
}

export type LoginResult = { ok: true; session: Session } | { ok: false; status: 401 | 429; retryAfter?: number; error: string };

/** A password the owner may choose: 8 to 64 characters, not the initial one. */
function checkNewPassword(password: string): string | null {
  if (password.length < 8) return 'the password needs at least 8 characters';
  if (password.length > 64) return 'the password may have at most 64 characters';
  if (password === INITIAL_PASSWORD) return 'choose a password other than the initial one';
  return null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // Constant time in the content: every byte is compared.
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export class Auth {
  private readonly kv: KeyValuePort;
  private readonly crypto: CryptoPort;
  private readonly clock: ClockPort;
  private sessions: Session[] = [];
  private attempts: number[] = [];
  /** The ticket the boot before left, as its SHA-256, until it is used or too old. */
  private ticket: { hash: Uint8Array; until: number } | null = null;

  constructor(kv: KeyValuePort, crypto: CryptoPort, clock: ClockPort) {
    this.kv = kv;
    this.crypto = crypto;
    this.clock = clock;
  }

  /** Whether the owner has chosen a password (the initial one no longer works). */
  get hasPassword(): boolean {
    return this.kv.get(HASH_KEY) != null; // null, not undefined, when it crossed the XS bridge
  }

  setPassword(password: string): void {
    const problem = checkNewPassword(password);
    if (problem) throw new HttpError(400, problem);
    saveAdminPassword(this.kv, this.crypto, password);
    // Whoever was logged in with the old password is logged out; the caller logs in again.
    this.sessions = [];
    this.ticket = null;
  }

  verify(password: string): boolean {
    const stored = this.kv.get(HASH_KEY);
    if (stored == null) return password === INITIAL_PASSWORD;
    return verifyPassword(this.crypto, stored, password);
  }

  login(password: string): LoginResult {
    const now = this.clock.uptime();
    this.attempts = this.attempts.filter((t) => now - t < LOGIN_WINDOW_MS);
    if (this.attempts.length >= LOGIN_BURST) {
      const retryAfter = Math.max(1, Math.ceil((this.attempts[0] + LOGIN_WINDOW_MS - now) / 1000));
      return { ok: false, status: 429, retryAfter, error: `too many login attempts: try again in ${retryAfter} s` };
    }
    this.attempts.push(now);
    if (!this.verify(password)) return { ok: false, status: 401, error: 'wrong password' };
    return { ok: true, session: this.open() };
  }

  /** A new session (after a login, or for the owner who just set the password). */
  open(): Session {
    const session: Session = { id: toHex(this.crypto.random(16)), csrf: toHex(this.crypto.random(16)), lastSeen: this.clock.uptime() };
    this.sessions.push(session);
    if (this.sessions.length > MAX_SESSIONS) this.sessions.shift();
    return session;
  }

  /** The request's session, when its cookie names a live one. */
  session(request: HttpRequest): Session | null {
    const id = cookie(request, SESSION_COOKIE);
    if (!id) return null;
    const now = this.clock.uptime();
    this.sessions = this.sessions.filter((s) => now - s.lastSeen < SESSION_IDLE_MS);
    for (const s of this.sessions) {
      if (s.id === id) {
        s.lastSeen = now;
        return s;
      }
    }
    return null;
  }

  /** At boot: takes the ticket the boot before left (its hash) off the store; it is good for this boot only. */
  takeResumeTicket(): void {
    const stored = this.kv.get(RESUME_KEY);
    if (stored == null) return;
    this.kv.delete(RESUME_KEY);
    const hash = fromHex(stored);
    if (hash && hash.length === 32) this.ticket = { hash, until: this.clock.uptime() + RESUME_MS };
  }

  /** Before a restart the owner asked for: a one-time ticket for the next boot, as the cookie that carries it. */
  resumeCookie(): string {
    const ticket = this.crypto.random(16);
    this.kv.set(RESUME_KEY, toHex(this.crypto.sha256(ticket)));
    return `${RESUME_COOKIE}=${toHex(ticket)}; Path=${RESUME_PATH}; HttpOnly; SameSite=Strict; Max-Age=${RESUME_COOKIE_S}`;
  }

  /**
   * A new session for the request whose cookie carries this boot's ticket, which is then spent; null
   * otherwise. A request without the ticket does not spend it.
   */
  resume(request: HttpRequest): Session | null {
    const t = this.ticket;
    const text = cookie(request, RESUME_COOKIE);
    const ticket = text && text.length === 32 ? fromHex(text) : null;
    if (!t || !ticket || this.clock.uptime() > t.until) return null;
    if (!sameBytes(this.crypto.sha256(ticket), t.hash)) return null;
    this.ticket = null;
    return this.open();
  }

  logout(session: Session): void {
    this.sessions = this.sessions.filter((s) => s !== session);
  }

  logoutAll(): void {
    this.sessions = [];
    this.ticket = null;
  }
}

export function sessionCookie(session: Session | null): string {
  return session
    ? `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict`
    : `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** "pbkdf2-sha256$ITERATIONS$SALT$HASH", salt and hash in hex. */
/** Stores the admin password (its hash), unchecked: setPassword checks a person's choice first. */
export function saveAdminPassword(kv: KeyValuePort, crypto: CryptoPort, password: string): void {
  kv.set(HASH_KEY, hashPassword(crypto, password));
}

function hashPassword(crypto: CryptoPort, password: string, iterations = PBKDF2_ITERATIONS): string {
  const salt = crypto.random(16);
  const hash = crypto.pbkdf2(utf8Encode(password), salt, iterations, 32);
  return `pbkdf2-sha256$${iterations}$${toHex(salt)}$${toHex(hash)}`;
}

function verifyPassword(crypto: CryptoPort, stored: string, password: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== 'pbkdf2-sha256') return false;
  const iterations = Number(parts[1]);
  const salt = fromHex(parts[2]);
  const hash = fromHex(parts[3]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1000000 || !salt || !hash) return false;
  return sameBytes(crypto.pbkdf2(utf8Encode(password), salt, iterations, hash.length), hash);
}

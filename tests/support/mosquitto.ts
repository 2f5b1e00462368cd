// A real Mosquitto for the MQTT tests, on a port the OS chose, with a TLS
// listener that requires client certificates from the given CA (the
// backend's), the certificate's CN as the user name, and an ACL. It keeps its
// sessions on disk, so that a restart (a broker outage) loses no message a
// persistent session was owed. Without /usr/sbin/mosquitto the test fails
// saying so: it is a system package the tests need (system-packages.txt).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort } from './free-port';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  url: string;
  /** Stops it (SIGTERM: it writes its sessions to disk first) and resolves when it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it listens. */
  start(): Promise<void>;
  log: string[];
}

export async function startMosquitto(o: { dir: string; ca: string; cert: string; key: string; acl: string }): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`Mosquitto is not installed (${MOSQUITTO}): the MQTT tests need it; Debian: apt-get install mosquitto (system-packages.txt)`);
  mkdirSync(o.dir, { recursive: true });
  const port = await freePort();
  const file = (name: string, text: string) => {
    const path = join(o.dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const config = file(
    'mosquitto.conf',
    [
      // Started as root, Mosquitto would become the user "mosquitto", who cannot read these files.
      `user ${userInfo().username}`,
      'per_listener_settings false',
      'persistence true',
      `persistence_location ${o.dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      `listener ${port} 127.0.0.1`,
      `cafile ${file('ca.pem', o.ca)}`,
      `certfile ${file('server.pem', o.cert)}`,
      `keyfile ${file('server-key.pem', o.key)}`,
      'tls_version tlsv1.2',
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${file('acl', o.acl)}`,
      '',
    ].join('\n'),
  );
  const log: string[] = [];
  let child: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let buffered = '';
      const timer = setTimeout(() => reject(new Error('mosquitto did not start within 10 s:\n' + log.join('\n'))), 10000);
      c.stderr!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          log.push(l);
          if (/Opening ipv4 listen socket on port/.test(l) || /mosquitto version .* running/.test(l)) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited (${code}):\n${log.join('\n')}`));
      });
    });
  await start();
  return {
    port,
    url: `mqtts://127.0.0.1:${port}`,
    log,
    start,
    stop: () =>
      new Promise<void>((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null) return resolve();
        c.removeAllListeners('exit');
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      }),
  };
}

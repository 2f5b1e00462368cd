// The backend's certificates: a CA that signs device client certificates (and,
// for development, the HTTPS server's certificate), created on first start in
// the data directory, or the ones configured. RSA 2048 and SHA-256 throughout:
// what Moddable's TLS on the ESP32 speaks (TLS 1.2, ECDHE-RSA or RSA key
// exchange, RSA signatures).

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const YEAR = 365 * 86400000;

export interface KeyPairPem {
  certificate: string;
  key: string;
}

export interface DeviceCredential {
  /** DER, for the device (Moddable's TLS takes DER). */
  certificate: Uint8Array;
  /** PKCS#8 DER. */
  key: Uint8Array;
  /** SHA-256 of the certificate's DER, hex: how the backend recognises the device. */
  fingerprint: string;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

export function derOf(pemText: string): Uint8Array {
  const body = pemText.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function serial(): string {
  // Positive, 16 random bytes.
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', derOf(keyPem), ALGORITHM, true, ['sign']) as Promise<CryptoKey>;
}

export class Pki {
  readonly ca: KeyPairPem;
  readonly server: KeyPairPem;
  /** The CA a device must pin to trust the server (the dev CA, or the configured server chain's root). */
  readonly serverCa: string;
  private caKey: CryptoKey | null = null;

  private constructor(ca: KeyPairPem, server: KeyPairPem, serverCa: string) {
    this.ca = ca;
    this.server = server;
    this.serverCa = serverCa;
  }

  /**
   * What the HTTPS server presents: its certificate and, when server.pem holds
   * the leaf alone, the CA devices pin. Moddable's TLS on the device matches
   * the host name only against a certificate that is followed by its issuer
   * (ssl_cert.js), so a lone leaf is refused there, whatever the pinned CA.
   */
  serverChain(): string {
    const certificates = this.server.certificate.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
    return certificates > 1 ? this.server.certificate : this.server.certificate.trimEnd() + '\n' + this.serverCa.trimEnd() + '\n';
  }

  /**
   * The PKI in `dir`: ca.pem/ca-key.pem (device CA), server.pem/server-key.pem
   * (HTTPS). What is missing is created: a CA valid for 20 years, a server
   * certificate for `hostnames` valid for 2 years.
   */
  static async open(dir: string, hostnames: string[] = ['localhost', '127.0.0.1'], configured: { serverCa?: string } = {}): Promise<Pki> {
    mkdirSync(dir, { recursive: true });
    const file = (name: string) => join(dir, name);
    let ca: KeyPairPem;
    if (existsSync(file('ca.pem')) && existsSync(file('ca-key.pem'))) {
      ca = { certificate: readFileSync(file('ca.pem'), 'utf8'), key: readFileSync(file('ca-key.pem'), 'utf8') };
    } else {
      ca = await createCa();
      writeFileSync(file('ca.pem'), ca.certificate);
      writeSecret(file('ca-key.pem'), ca.key);
    }
    const pki = new Pki(ca, { certificate: '', key: '' }, configured.serverCa ?? ca.certificate);
    let server: KeyPairPem;
    if (existsSync(file('server.pem')) && existsSync(file('server-key.pem'))) {
      server = { certificate: readFileSync(file('server.pem'), 'utf8'), key: readFileSync(file('server-key.pem'), 'utf8') };
    } else {
      server = await pki.issueServer(hostnames);
      writeFileSync(file('server.pem'), server.certificate);
      writeSecret(file('server-key.pem'), server.key);
    }
    return new Pki(ca, server, configured.serverCa ?? ca.certificate);
  }

  private async signer(): Promise<CryptoKey> {
    this.caKey ??= await importKey(this.ca.key);
    return this.caKey;
  }

  private async issue(subject: string, validity: { from: Date; to: Date }, extensions: x509.Extension[]): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
    const issuer = new x509.X509Certificate(this.ca.certificate);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: issuer.subject,
      notBefore: validity.from,
      notAfter: validity.to,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: await this.signer(),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(issuer, false),
        ...extensions,
      ],
    });
    return { cert, keys };
  }

  async issueServer(hostnames: string[]): Promise<KeyPairPem> {
    const now = Date.now();
    const names = hostnames.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
    const { cert, keys } = await this.issue(`CN=${hostnames[0] ?? 'smgw-lite backend'}`, { from: new Date(now - 3600000), to: new Date(now + 2 * YEAR) }, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ]);
    return { certificate: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  }

  /**
   * A client certificate for a device: CN = the device id, valid for 10
   * years (or the given span, for tests of expiry). The key leaves the
   * backend once, in the enrolment bundle; the backend keeps only the
   * certificate's fingerprint.
   */
  async issueDevice(deviceId: string, validity?: { from: Date; to: Date }): Promise<DeviceCredential> {
    const now = Date.now();
    const { cert, keys } = await this.issue(`CN=${deviceId}`, validity ?? { from: new Date(now - 3600000), to: new Date(now + 10 * YEAR) }, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
    const der = new Uint8Array(cert.rawData);
    return { certificate: der, key: new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), fingerprint: fingerprintOf(der) };
  }
}

async function createCa(): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=smgw-lite backend CA',
    notBefore: new Date(now - 3600000),
    notAfter: new Date(now + 20 * YEAR),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      // Its own key id again (RFC 5280 allows it in a self-signed CA): Moddable's TLS
      // looks the chain's last certificate up by its authority key id, and fails without one.
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export { pem as toPem, writeSecret };

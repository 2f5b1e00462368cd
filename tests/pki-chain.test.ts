// What Moddable's TLS on the device needs of the backend's certificates
// (found running the firmware in mcsim, npm run test:moddable): the server
// presents its certificate followed by its CA, and the CA names its own key as
// its authority key id.
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Pki } from '../backend/pki';

describe('the backend PKI', () => {
  it('serves the chain (leaf, then the CA devices pin), and the CA carries its authority key id', async () => {
    const pki = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-pki-')));
    const chain = pki.serverChain().match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
    expect(chain.length).toBe(2);
    const [leaf, ca] = chain.map((p) => new X509Certificate(p));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(ca.fingerprint256).toBe(new X509Certificate(pki.serverCa).fingerprint256);
    const caCert = new x509.X509Certificate(pki.serverCa);
    const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(caCert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ski);
  });
});

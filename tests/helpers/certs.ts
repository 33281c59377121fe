// Short-lived test certificates, made in process with node-forge (no system `openssl` needed, so
// the TLS tests run in `npm test` on a bare machine): a CA, a server certificate for
// localhost/127.0.0.1 and a client certificate, both signed by the CA, plus a second CA that
// signed nothing, written as PEM files to a fresh temp directory that remove() deletes. Nothing
// secret is committed.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A second CA that signed nothing here: clients trusting only it must fail. */
  readonly otherCaFile: string;
  readonly ca: Buffer;
  remove(): void;
}

interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly keys: forge.pki.rsa.KeyPair;
}

let serial = 1;

/** A certificate for `cn`, valid from a minute ago for a day, signed by `issuer` (self-signed when absent). */
function issue(cn: string, extensions: object[], issuer?: Issued): Issued {
  // node-forge uses Node's native RSA key generation when it is there (Node >= 10.12).
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: cn }];
  cert.setSubject(subject);
  cert.setIssuer(issuer === undefined ? subject : issuer.cert.subject.attributes);
  cert.setExtensions(extensions);
  cert.sign(issuer === undefined ? keys.privateKey : issuer.keys.privateKey, forge.md.sha256.create());
  return { cert, keys };
}

const CA_EXTENSIONS = [
  { name: 'basicConstraints', cA: true, critical: true },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
];

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-certs-'));
  const write = (name: string, issued: Issued): void => {
    writeFileSync(join(dir, `${name}.pem`), forge.pki.certificateToPem(issued.cert));
    writeFileSync(join(dir, `${name}.key`), forge.pki.privateKeyToPem(issued.keys.privateKey));
  };
  try {
    const ca = issue('ca', CA_EXTENSIONS);
    write('ca', ca);
    write('other-ca', issue('other-ca', CA_EXTENSIONS));
    const leaf = { name: 'keyUsage', digitalSignature: true, keyEncipherment: true };
    write(
      'server',
      issue(
        'server',
        [
          leaf,
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
        ],
        ca,
      ),
    );
    write('client', issue('client', [leaf, { name: 'extKeyUsage', clientAuth: true }], ca));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    otherCaFile: join(dir, 'other-ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}


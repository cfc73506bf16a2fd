/**
 * A throwaway certificate for HTTPS servers on 127.0.0.1 in tests (made with the openssl CLI):
 * subject 127.0.0.1 with SANs `IP:127.0.0.1` and `DNS:localhost`, valid one day. Clients trust it
 * by adding `cert` to their CA list (Patchbay: `createHttpClient({ca: [cert]})` or the platform's
 * PATCHBAY_EXTRA_CA_CERTS file).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
  /** A file holding `cert` (PEM), removed by `cleanup`. */
  certFile: string;
  cleanup(): void;
}

/** Creates a self-signed certificate for 127.0.0.1 / localhost. */
export function testCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(key, 'utf8'),
    cert: readFileSync(cert, 'utf8'),
    certFile: cert,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A throwaway self-signed TLS certificate (EC P-256, one day) and its pin, made with openssl as docs/protocol.md tells operators. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCert {
  keyFile: string;
  certFile: string;
  /** `sha256:<hex>` as `openssl x509 -fingerprint -sha256` prints it, colons dropped, lower case. */
  pin: string;
}

export async function selfSignedCert(dir: string, name: string): Promise<TestCert> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  const args = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`];
  await run('openssl', ['req', '-x509', ...args, '-keyout', keyFile, '-out', certFile]);
  const fp = (await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'])).stdout;
  return { keyFile, certFile, pin: `sha256:${fp.replace(/^.*=/, '').replace(/:/g, '').trim().toLowerCase()}` };
}

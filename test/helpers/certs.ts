import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSignedCertificate } from '../../src/server/certs.js';

export interface TestCertificate {
  dir: string;
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

let cached: Promise<TestCertificate> | undefined;

/** A throwaway certificate in a temp dir, generated once per test file. */
export function testCertificate(): Promise<TestCertificate> {
  cached ??= makeCertificate();
  return cached;
}

export async function makeCertificate(): Promise<TestCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'securechat-test-'));
  const { certPem, keyPem } = await generateSelfSignedCertificate('securechat-test');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  writeFileSync(certPath, certPem);
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  return { dir, certPath, keyPath, certPem, keyPem };
}

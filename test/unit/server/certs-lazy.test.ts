import { describe, expect, it, vi } from 'vitest';
import { makeCertificate } from '../../helpers/certs.js';

/**
 * The X.509 generator (@peculiar/x509 and its Reflect polyfill, ≈ 2.6 MB of heap) is loaded
 * only to generate a certificate: a server that has its pair never pays for it.
 */
describe('certificate loading', () => {
  it('loads an existing pair without loading the X.509 generator', async () => {
    const cert = await makeCertificate(); // (generated with the real one, before the mock)
    vi.resetModules();
    vi.doMock('@peculiar/x509', () => {
      throw new Error('@peculiar/x509 was loaded');
    });
    const certs = await import('../../../src/server/certs.js');
    const loaded = await certs.loadOrCreateCertificate({
      certPath: cert.certPath,
      keyPath: cert.keyPath,
    });
    expect(loaded).toEqual({ certPem: cert.certPem, keyPem: cert.keyPem, generated: false });
    expect(certs.certificatePin(loaded.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The mock is live: generating is what loads the generator.
    const generating = await certs.generateSelfSignedCertificate().catch((error: unknown) => error);
    expect(String((generating as { cause?: unknown }).cause)).toMatch(/was loaded/);
    vi.doUnmock('@peculiar/x509');
  });
});

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import {
  answerPlaintextOnRefusal,
  classifyFirstRecordError,
  classifyHandshakeError,
} from '../../../src/server/tls-refusal.js';

type OnError = (this: unknown, error: NodeJS.ErrnoException) => void;

/** A TLS socket whose native handle has Node's `onerror`, and the TCP socket under it. */
function fixture(settled = false) {
  const nodeOnError = vi.fn<OnError>();
  const handle: { onerror: OnError } = { onerror: nodeOnError };
  const tlsSocket = { _handle: handle } as unknown as TLSSocket;
  const raw = { destroyed: false, end: vi.fn(), _handle: { bytesWritten: 0 } };
  const state = { settled, plaintextAnswered: false };
  const unhook = answerPlaintextOnRefusal(tlsSocket, raw as unknown as Socket, state);
  const fail = (code: string) => {
    const error = Object.assign(new Error(code), { code });
    handle.onerror.call(handle, error);
    return error;
  };
  return { handle, nodeOnError, raw, state, unhook, fail };
}

describe('answerPlaintextOnRefusal', () => {
  it('answers an HTTP request with a 400 on the TCP socket, then lets Node close it', () => {
    const { handle, nodeOnError, raw, fail } = fixture();
    const error = fail('ERR_SSL_HTTP_REQUEST');
    expect(raw.end).toHaveBeenCalledTimes(1);
    expect(String(raw.end.mock.calls[0]![0])).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(nodeOnError).toHaveBeenCalledWith(error);
    expect(nodeOnError.mock.contexts[0]).toBe(handle);
    expect(raw.end.mock.invocationCallOrder[0]!).toBeLessThan(
      nodeOnError.mock.invocationCallOrder[0]!,
    );
  });

  it('answers other plaintext with an E_TLS_REQUIRED line, and records that it answered', () => {
    const { raw, nodeOnError, state, fail } = fixture();
    fail('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(state.plaintextAnswered).toBe(true);
    const line = String(raw.end.mock.calls[0]![0]);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ type: 'error', code: 'E_TLS_REQUIRED' });
    expect(nodeOnError).toHaveBeenCalledTimes(1);
  });

  it('writes nothing for a TLS error that is not plaintext, or after the handshake settled', () => {
    const tls = fixture();
    tls.fail('ERR_SSL_NO_SHARED_CIPHER');
    expect(tls.raw.end).not.toHaveBeenCalled();
    expect(tls.nodeOnError).toHaveBeenCalledTimes(1);
    const settled = fixture(true);
    settled.fail('ERR_SSL_HTTP_REQUEST');
    expect(settled.raw.end).not.toHaveBeenCalled();
    expect(settled.nodeOnError).toHaveBeenCalledTimes(1);
  });

  it('writes nothing once TLS bytes went out on the TCP socket (garbage mid-handshake)', () => {
    const { raw, nodeOnError, state, fail } = fixture();
    raw._handle.bytesWritten = 765; // the server's first flight
    fail('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(raw.end).not.toHaveBeenCalled();
    expect(state.plaintextAnswered).toBe(false);
    expect(nodeOnError).toHaveBeenCalledTimes(1);
  });

  it('puts Node’s own callback back when asked (a secured connection keeps no closure)', () => {
    const { handle, nodeOnError, unhook } = fixture();
    expect(handle.onerror).not.toBe(nodeOnError);
    unhook?.();
    expect(handle.onerror).toBe(nodeOnError);
  });

  it('does nothing without a native handle', () => {
    const tlsSocket = { _handle: null } as unknown as TLSSocket;
    const state = { settled: false, plaintextAnswered: false };
    expect(answerPlaintextOnRefusal(tlsSocket, {} as Socket, state)).toBeUndefined();
  });
});

describe('classifyFirstRecordError', () => {
  it.each([
    ['ERR_SSL_HTTP_REQUEST', 'plaintext_http'],
    ['ERR_SSL_HTTPS_PROXY_REQUEST', 'plaintext_http'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'plaintext'],
    ['ECONNRESET', 'reset'],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'tls_version'],
    ['ERR_SSL_NO_SHARED_CIPHER', 'tls_error'],
  ])('%s → %s', (code, reason) => {
    expect(classifyFirstRecordError(Object.assign(new Error(code), { code }))).toBe(reason);
  });
});

describe('classifyHandshakeError', () => {
  const wrongVersion = Object.assign(new Error('wrong version number'), {
    code: 'ERR_SSL_WRONG_VERSION_NUMBER',
  });
  const raw = (bytesWritten: number) => ({ _handle: { bytesWritten } }) as unknown as Socket;
  const state = (plaintextAnswered: boolean) => ({ settled: false, plaintextAnswered });

  it('a first record that is not TLS, nothing sent yet: a plaintext client', () => {
    expect(classifyHandshakeError(wrongVersion, raw(0), false, state(false))).toBe('plaintext');
  });

  it('the same error after the server sent its TLS flight: a TLS error, not plaintext', () => {
    expect(classifyHandshakeError(wrongVersion, raw(765), false, state(false))).toBe('tls_version');
  });

  it('bytes on the socket that are the plain-text answer itself: still plaintext', () => {
    expect(classifyHandshakeError(wrongVersion, raw(96), false, state(true))).toBe('plaintext');
  });

  it('first bytes already checked in JS (after a PROXY header): a TLS error', () => {
    expect(classifyHandshakeError(wrongVersion, raw(0), true, state(false))).toBe('tls_version');
  });
});

import { describe, expect, it } from 'vitest';
import { ErrorCode, encodeFilePutHeader, MAX_BINARY_BODY_BYTES } from '../../src/protocol/index.js';
import { FBIN, filesFixture, JSON_ONLY } from '../helpers/files-fixture.js';
import { barrier, helloV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { until } from '../helpers/until.js';

/**
 * "Sealed chunks" the server cannot tell from real ones (it never opens them): bytes that
 * look like protocol lines, so a server that read a raw body as lines would act on them.
 */
const HOSTILE_BODY = Buffer.from(
  '\n{"type":"chat","text":"from inside a body"}\n{"type":"ping"}\r\n{"type":"fputb","len":1}\n',
);
const SECOND = Buffer.concat([Buffer.from([0, 0x0a, 0xff, 0x0d, 0x0a]), Buffer.alloc(30, 0x0a)]);

describe('binary chunk mode (fbin) over real TLS', () => {
  const fx = filesFixture('sc-fbin-');
  const { clock, clients, who, login } = fx;
  /** Announces a two-chunk "file" of HOSTILE_BODY and SECOND, as alice to bob. */
  const announce = async (alice: RawClient, id: string) => {
    alice.send({
      type: 'fnew',
      id,
      bytes: (1 << 15) + 16 + SECOND.length,
      chunks: 2,
      to: 'bob',
    });
    return alice.next((x) => x.type === 'fok' && x.id === id);
  };
  const first = Buffer.concat([HOSTILE_BODY, Buffer.alloc((1 << 15) + 16 - HOSTILE_BODY.length)]);

  it('offers fbin with files; raw bodies are stored as sent, never read as lines, and chat keeps its order', async () => {
    const { client: alice, answer } = await helloV2(fx.t, 'alice', who('alice'), { caps: FBIN });
    clients.push(alice);
    expect(answer.caps).toEqual(expect.arrayContaining(['files', 'fbin']));
    const bob = await login('bob');
    const ok = await announce(alice, 'b1');
    const file = ok.file as string;
    alice.send({ type: 'chat', text: 'before' });
    alice.send(Buffer.from(encodeFilePutHeader(file, 0, first.length)));
    // the body split over writes, with a chat line right after it
    alice.send(first.subarray(0, 10));
    alice.send(first.subarray(10));
    alice.send({ type: 'chat', text: 'between' });
    alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, 1, SECOND.length)), SECOND]));
    alice.send({ type: 'chat', text: 'after' });
    await alice.next((x) => x.type === 'fack' && x.have === 2);
    const seen = await barrier(alice);
    const echoes = seen.filter((x) => x.type === 'server').map((x) => x.text);
    // three echoes in order, and nothing from the lines inside the body
    expect(echoes).toEqual(['echo: before', 'echo: between', 'echo: after']);
    expect(seen.filter((x) => x.type === 'error')).toEqual([]);
    expect(seen.filter((x) => x.type === 'pong')).toEqual([]); // the only pong was the barrier's

    // bob announced fbin: fchunkb headers with the exact bytes
    bob.binaryChunks();
    bob.send({ type: 'fget', file, cap: ok.cap, i: 0, n: 2 });
    const c0 = await bob.next((x) => x.type === 'fchunkb' && x.i === 0);
    const c1 = await bob.next((x) => x.type === 'fchunkb' && x.i === 1);
    expect(c0.len).toBe(first.length);
    expect(Buffer.compare(c0.body as Buffer, first)).toBe(0);
    expect(Buffer.compare(c1.body as Buffer, SECOND)).toBe(0);
  });

  it('sends JSON fchunk lines to a client that did not announce fbin (older clients keep working)', async () => {
    const alice = await login('alice');
    const bob = await login('bob', JSON_ONLY);
    const ok = await announce(alice, 'b2');
    alice.send(
      Buffer.concat([Buffer.from(encodeFilePutHeader(ok.file as string, 0, first.length)), first]),
    );
    alice.send({ type: 'fput', file: ok.file, i: 1, data: SECOND.toString('base64') });
    await alice.next((x) => x.type === 'fack' && x.have === 2);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 2 });
    const c0 = await bob.next((x) => x.type === 'fchunk' && x.i === 0);
    expect(Buffer.from(c0.data as string, 'base64').equals(first)).toBe(true);
  });

  it('refuses a header announcing more than the maximum with E_BODY_TOO_LONG and disconnects', async () => {
    const alice = await login('alice');
    const ok = await announce(alice, 'b3');
    alice.send(Buffer.from(encodeFilePutHeader(ok.file as string, 0, MAX_BINARY_BODY_BYTES + 1)));
    await alice.error(ErrorCode.BODY_TOO_LONG);
    await alice.closed;
  });

  it('disconnects a raw body after a header that names another type too (a body must follow an fputb)', async () => {
    const alice = await login('alice');
    const ok = await announce(alice, 'b4');
    const header = `{"type":"fputb","file":"${ok.file}","i":0,"len":16,"type":"ping"}\n`;
    alice.send(Buffer.concat([Buffer.from(header), Buffer.alloc(16)]));
    await alice.error(ErrorCode.BAD_FIELD);
    await alice.closed;
  });

  it('reads an fputb from a client without fbin as an ordinary line: refused, the connection kept', async () => {
    const alice = await login('alice', JSON_ONLY);
    const ok = await announce(alice, 'b5');
    alice.send(Buffer.from(encodeFilePutHeader(ok.file as string, 0, 16)));
    const error = await alice.error(ErrorCode.BAD_FIELD);
    expect(error.ref).toBe(ok.file); // (the file it is about: the client can fail that upload)
    await alice.sync(); // still connected
  });

  it('ends a body that never completes by the idle timeout (a short body is not activity)', async () => {
    const alice = await login('alice');
    const ok = await announce(alice, 'b6');
    clock.advance(50_000);
    const before = fx.t.server.stats.bytesIn;
    alice.send(Buffer.from(encodeFilePutHeader(ok.file as string, 0, first.length)));
    alice.send(first.subarray(0, 1000));
    // no answer can come inside a body (no barrier): wait until the server has read the bytes
    expect(await until(() => fx.t.server.stats.bytesIn >= before + 1000)).toBe(true);
    clock.advance(20_000); // 70 s after the last complete line, 20 s after the partial body
    await fx.t.server.sweep();
    await alice.error(ErrorCode.IDLE_TIMEOUT);
    await alice.closed;
  });
});

import { Writable } from 'node:stream';

/** Collects pino's NDJSON output in memory (pino's test-sink idea). */
export class LogSink extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    callback();
  }

  get records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  events(event: string): Array<Record<string, unknown>> {
    return this.records.filter((record) => record.event === event);
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

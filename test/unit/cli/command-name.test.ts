import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandName } from '../../../src/command-name.js';

describe('how printed commands name the program (issue 15: not on the PATH after the README)', () => {
  it('says npx securechat unless securechat is on the PATH (npm link)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'securechat-path-'));
    expect(commandName(empty)).toBe('npx securechat');
    const linked = mkdtempSync(join(tmpdir(), 'securechat-path-'));
    const bin = join(linked, 'securechat');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    expect(commandName([empty, linked].join(delimiter))).toBe('securechat');
  });
});

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let cached: string | undefined;

/**
 * How to type this program in the shell, for commands we print (banners, hints): plain
 * `securechat` once it is on the PATH (`npm link`, a global install), else
 * `npx securechat`, which works from the project directory after `npm ci`.
 */
export function commandName(path = process.env.PATH ?? ''): string {
  if (cached !== undefined && path === (process.env.PATH ?? '')) return cached;
  const found = path
    .split(delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        accessSync(join(dir, 'securechat'), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const name = found ? 'securechat' : 'npx securechat';
  if (path === (process.env.PATH ?? '')) cached = name;
  return name;
}

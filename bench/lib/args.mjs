// Command-line options of the A/B benches: `--name value` pairs taken out of an argument list.
import { pathToFileURL } from 'node:url';

/**
 * A `take(name, fallback)` over `args`: removes `--name value` from `args` and returns the
 * value (`fallback` when absent), so what is left at the end was not understood.
 */
export function optionTaker(args) {
  return (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    if (i === -1) return fallback;
    const [value] = args.splice(i, 2).slice(1);
    return value;
  };
}

/**
 * `load(path)` imports `path` (e.g. `server/compose.js`) from a built dist/: `dir` (another
 * checkout's, the in-process benches' `--dist DIR`), else this checkout's.
 */
export function distLoader(dir) {
  const dist = new URL(`${dir ?? new URL('../../dist', import.meta.url).pathname}/`, 'file:');
  return (path) => import(pathToFileURL(new URL(path, dist).pathname).href);
}

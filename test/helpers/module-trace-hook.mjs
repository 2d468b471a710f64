// A module-resolution hook for start-up tests: prints every resolved file: URL to stderr
// as "M <url>", so a test can see which ES modules a command loaded (ESM never shows in
// require.cache). Loaded with `node --experimental-loader <this file>`.
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.startsWith('file:')) process.stderr.write(`M ${result.url}\n`);
  return result;
}

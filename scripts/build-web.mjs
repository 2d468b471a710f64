// Bundles the browser UI (src/web) and the admin dashboard (src/web/dashboard) into
// dist/web: a script, a stylesheet and a page each.
// Run by `npm run build` (so by npm start and npm test); nothing generated is committed.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
mkdirSync(out, { recursive: true });

await build({
  entryPoints: {
    app: `${root}src/web/main.tsx`,
    dashboard: `${root}src/web/dashboard/main.tsx`,
  },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: `${root}src/web/tsconfig.json`,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css', 'dashboard/dashboard.html', 'dashboard/dashboard.css'])
  copyFileSync(`${root}src/web/${file}`, `${out}/${file.split('/').pop()}`);

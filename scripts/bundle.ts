/**
 * Build step (`npm run build`, after tsc and the validator generator): the
 * CLI and everything of cwm's own that it imports, bundled into one file,
 * dist/cwm.js, which the `cwm` bin, `npm start` and the image run. npm
 * packages stay external (loaded from node_modules as before). Loading cwm's
 * ~150 compiled modules one by one through node's ESM loader took ~230 ms of
 * a 25 000-webhook start (/ready 1.3 s → 1.1 s, docs/benchmarks.md).
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'cwm.js');

await build({
  entryPoints: [join(ROOT, 'dist', 'src', 'cli', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Stack traces map back to the compiled modules with `node --enable-source-maps`.
  sourcemap: 'linked',
  logLevel: 'warning',
});

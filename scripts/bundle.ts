/**
 * Build step (`npm run build`, after tsc and the validator generator): the
 * CLI and everything of cwm's own that it imports, bundled into one file,
 * dist/cwm.js, which the `cwm` bin, `npm start` and the image execute. Most
 * npm packages stay external (loaded from node_modules as before). Loading cwm's
 * ~150 compiled modules one by one through node's ESM loader took ~230 ms of
 * a 25 000-webhook start (/ready 1.3 s → 1.1 s, docs/benchmarks.md).
 */
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Node flags the bundle's first line runs it with (the bin, `npm start` and
 * the image execute the file itself; the tests and the bench read the line).
 * A young generation of at most 8 MB per semi-space instead of V8's 16: a
 * start with 25 000 webhooks grows it to the maximum, which then stays
 * resident, and with 8 MB RSS at /ready is ~17 MB lower (146–150 vs 161–170
 * MB) at ~1% more CPU per request on the log webhook (bench ab, within its
 * noise; 4 MB cost 3%: rounds 1.02–1.05×). A profile under load puts that
 * price higher, GC at ~3.3 vs ~1.7 µs per request, so it is a trade, chosen
 * for the memory goal.
 *
 * MALLOC_ARENA_MAX=2: glibc keeps up to 8 malloc arenas per core, and memory
 * freed by the startup burst (etcd pages, gRPC buffers) stays in them; with
 * two, RSS at /ready with 25 000 webhooks is ~3–8 MB lower (scratch runs,
 * 6 starts each: 147.5 vs 149–153 MB; with 16 MB semi-spaces 158 vs 166) at
 * no CPU cost per request (bench ab: 0.98×, rounds 0.82–1.08). An operator's
 * own value is overridden: set it on `node dist/cwm.js` instead.
 */
const ENV = ['MALLOC_ARENA_MAX=2'];
const NODE_FLAGS = ['--max-semi-space-size=8'];
const BUNDLE = join(ROOT, 'dist', 'cwm.js');

/**
 * Pure-JavaScript packages (no files read next to their modules, no worker
 * scripts) are bundled too: @sinclair/typebox alone is 266 ES modules. The
 * rest (grpc reads .proto files beside its code, pino starts worker files,
 * the client libraries load on first use) stay in node_modules.
 */
const INLINED = new Set(['@sinclair/typebox', 're2js', 'jose', 'cockatiel', 'prom-client']);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const external = Object.keys(pkg.dependencies)
  .filter((name) => !INLINED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

await build({
  entryPoints: [join(ROOT, 'dist', 'src', 'cli', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  external,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Stack traces map back to the compiled modules with `node --enable-source-maps`.
  sourcemap: 'linked',
  logLevel: 'warning',
  // env -S splits the assignments and flags from the interpreter name (coreutils 8.30+, macOS, BusyBox).
  // The inlined CommonJS packages require() node's modules: an ES module has no require of its own.
  banner: { js: [`#!/usr/bin/env -S ${ENV.join(' ')} node ${NODE_FLAGS.join(' ')}`, "import { createRequire as __cwmCreateRequire } from 'node:module';", 'const require = __cwmCreateRequire(import.meta.url);'].join('\n') },
});
// Executable: the bin, npm start and the image run the file itself (its first line names node and the flags).
chmodSync(BUNDLE, 0o755);

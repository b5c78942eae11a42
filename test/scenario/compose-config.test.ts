/** The Docker artefacts are checked without an engine: docker-compose validates the file, the Dockerfile is read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const COMPOSE = join(ROOT, 'docker', 'scenario', 'etcd-namespaces', 'docker-compose.yml');
const run = promisify(execFile);

/** The block of one service in `docker-compose config` output (two-space indented YAML). */
function serviceBlock(config: string, name: string): string {
  const start = config.indexOf(`\n  ${name}:\n`);
  assert.notEqual(start, -1, `service ${name} present`);
  const rest = config.slice(start + 1);
  const next = rest.slice(1).search(/\n {2}[a-z0-9_-]+:\n|\n[a-z]+:/);
  return next === -1 ? rest : rest.slice(0, next + 1);
}

test('docker-compose config validates the scenario: etcd, Redis, KRaft Kafka and two cwm instances on etcd', async () => {
  const { stdout: services } = await run('docker-compose', ['-f', COMPOSE, 'config', '--services'], { timeout: 30_000 });
  assert.deepEqual(services.trim().split('\n').sort(), ['cwm1', 'cwm2', 'etcd', 'kafka', 'redis', 'seed']);
  const { stdout: config } = await run('docker-compose', ['-f', COMPOSE, 'config'], { timeout: 30_000 });
  for (const name of ['cwm1', 'cwm2']) {
    const block = serviceBlock(config, name);
    assert.match(block, /CONFIG_BACKEND: etcd/, name);
    assert.match(block, /ETCD_ENDPOINTS: http:\/\/etcd:2379/, name);
    assert.match(block, /dockerfile: docker\/Dockerfile/, name);
    assert.match(block, /etcd:\n\s+condition: service_healthy/, name);
  }
  const kafka = serviceBlock(config, 'kafka');
  assert.match(kafka, /image: apache\/kafka:/);
  assert.match(kafka, /KAFKA_PROCESS_ROLES: broker,controller/, 'KRaft mode, no ZooKeeper');
  assert.doesNotMatch(config, /zookeeper/i);
});

test('a broken compose file is rejected by the same check', async () => {
  const dir = tempDir('cwm-compose-');
  try {
    const broken = join(dir, 'docker-compose.yml');
    writeFileSync(broken, readFileSync(COMPOSE, 'utf8').replace('condition: service_healthy', 'condition: when_it_feels_like_it'));
    await assert.rejects(run('docker-compose', ['-f', broken, 'config'], { timeout: 30_000 }), /condition/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Dockerfile is multi-stage on node:20-bookworm-slim, runs as non-root and health-checks /health', () => {
  const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
  const stages = dockerfile.match(/^FROM node:20-bookworm-slim/gm) ?? [];
  assert.ok(stages.length >= 2, 'multi-stage');
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n?.*\/health/m);
  assert.match(dockerfile, /^ENTRYPOINT \["\/app\/dist\/cwm\.js"\]$/m, 'exec form so node receives SIGTERM');
  assert.match(dockerfile, /^COPY --from=build .*\/src\/dist\/cwm\.js /m, 'the bundled CLI is what the image runs');
  // The runtime stage must not carry dev dependencies or sources.
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.doesNotMatch(runtime, /COPY src /);
  assert.match(readFileSync(join(ROOT, 'docker', 'scenario', 'etcd-namespaces', 'run_test.sh'), 'utf8'), /CWM_URLS/);
});

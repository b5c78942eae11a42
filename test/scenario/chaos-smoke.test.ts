/**
 * CI-sized chaos: the Redis kill and the SIGTERM runs with short outages
 * (`npm run chaos -- --short`'s code), so the chaos scripts cannot rot and the
 * zero-lost guarantee is checked on every test run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SCENARIOS, runScenario } from '../../scripts/chaos/suite.js';
import type { ScenarioResult } from '../../scripts/chaos/scenario.js';
import type { Tally } from '../../scripts/chaos/tally.js';

const RUNNER = join(import.meta.dirname, '..', '..', 'scripts', 'chaos', 'run.js');

async function run(name: string): Promise<{ result: ScenarioResult; row: Tally }> {
  const scenario = SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, name);
  const result = await runScenario(scenario, { short: true });
  assert.equal(result.error, undefined, `${name} finished`);
  assert.equal(result.tallies.length, 1);
  const row = result.tallies[0] as Tally;
  assert.ok(row.acked >= 50, `${name}: traffic was acknowledged (${row.acked})`);
  assert.equal(row.lost, 0, `${name}: acknowledged then lost: ${row.lostSample.join(', ')}`);
  assert.equal(row.duplicatesWithoutRetry, 0, `${name}: duplicates without a retry`);
  return { result, row };
}

test('chaos --short redis-kill: Redis SIGKILLed under load answers 503, the sender retries, nothing acknowledged is lost', async (t) => {
  const { row } = await run('redis-kill');
  assert.ok(row.answered503 > 0, 'the outage was seen as 503');
  assert.equal(row.otherStatus + row.connErrors, 0, 'only 200 and 503');
  assert.equal(row.duplicates, 0, 'BullMQ job ids are delivery ids: no second job');
  t.diagnostic(`deliveries=${row.deliveries} 2xx=${row.acked} 503=${row.answered503} retried=${row.retried} found=${row.found} lost=${row.lost}`);
});

test('chaos --short sigterm: one of two instances stopped under load; refused attempts retried on the other; nothing acknowledged is lost', async (t) => {
  const { result, row } = await run('sigterm');
  assert.ok(row.connErrors > 0, 'the stopped instance refused connections');
  assert.equal(row.gaveUp, 0, 'every refused delivery was taken by the other instance');
  assert.ok(result.notes.some((n) => n.startsWith('instance a: SIGTERM') && n.includes('exited with 0')), result.notes.join('\n'));
  t.diagnostic(`deliveries=${row.deliveries} 2xx=${row.acked} refused=${row.connErrors} retried=${row.retried} found=${row.found} lost=${row.lost}`);
});

test('chaos runner: an unknown scenario name is a usage error (exit 2)', () => {
  const out = spawnSync(process.execPath, [RUNNER, '--only', 'nope'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /unknown scenario "nope"/);
});

/** The chaos scenarios in running order, and running a selection of them one after another. */
import type { RunOptions, Scenario, ScenarioResult } from './scenario.js';
import { etcdLeader } from './scenarios/etcd-leader.js';
import { etcdOutage } from './scenarios/etcd-outage.js';
import { mqttKill, natsKill, rabbitmqKill } from './scenarios/brokers.js';
import { kafkaBroker } from './scenarios/kafka-broker.js';
import { postgresqlKill } from './scenarios/postgresql-kill.js';
import { redisKill } from './scenarios/redis-kill.js';
import { sigterm } from './scenarios/sigterm.js';
import { spoolKill } from './scenarios/spool-kill.js';

export const SCENARIOS: readonly Scenario[] = [etcdLeader, etcdOutage, redisKill, kafkaBroker, rabbitmqKill, mqttKill, natsKill, postgresqlKill, sigterm, spoolKill];

export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const base = { name: scenario.name, title: scenario.title };
  try {
    const report = await scenario.run(opts);
    return { ...base, ...report, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    return { ...base, tallies: [], notes: [], seconds: (performance.now() - started) / 1000, error: (err as Error).message };
  }
}

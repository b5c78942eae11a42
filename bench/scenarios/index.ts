/**
 * Every scenario `npm run bench` knows, in run order. New ones are one
 * module each, added here.
 */
import type { Scenario } from '../lib/scenario.js';
import { abScenario } from './ab.js';
import { authScenario } from './auth.js';
import { configStormScenario } from './config-storm.js';
import { durableScenario } from './durable.js';
import { etcdConfigScenario } from './etcd-config.js';
import { httpScenario } from './http.js';
import { manyWebhooksScenario } from './many-webhooks.js';
import { outputsScenario } from './outputs.js';
import { securityScenario } from './security.js';
import { watchEventScenario } from './watch-event.js';
import { microScenario } from './micro.js';

export const SCENARIOS: readonly Scenario[] = [httpScenario, securityScenario, authScenario, outputsScenario, manyWebhooksScenario, etcdConfigScenario, microScenario, watchEventScenario, configStormScenario, durableScenario, abScenario];

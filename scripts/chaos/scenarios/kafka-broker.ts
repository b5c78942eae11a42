/**
 * The Kafka test broker taken down under a kafka webhook's load and brought
 * back. The broker is librdkafka's mock cluster, which keeps its log in
 * memory: killing its process would erase what it acknowledged, so "stopped"
 * means every broker refuses connections (SIGUSR1) with its data kept, and
 * "restarted" means accepting them again (SIGUSR2).
 */
import { startKafkaMock } from '../../../test/helpers/kafka.js';
import { kafkaDeliveries } from '../destinations.js';
import { brokerOutage } from './broker-outage.js';

const TOPIC = 'chaos';

export const kafkaBroker = brokerOutage('kafka-broker', 'Kafka test broker stopped and restarted (kafka webhook)', async () => {
  const kafka = await startKafkaMock([TOPIC]);
  return {
    connection: { type: 'kafka', bootstrap_servers: kafka.bootstraps },
    webhook: { module: 'kafka', 'module-config': { topic: TOPIC } },
    destination: `Kafka topic "${TOPIC}"`,
    fail: () => kafka.down().then(() => 'broker down (connections refused, log kept)'),
    recover: () => kafka.up().then(() => 'broker up'),
    read: () => kafkaDeliveries(kafka.bootstraps, TOPIC),
    duplicatesNote: 'a record written after cwm gave up on it comes back as a duplicate when the sender retries (non-idempotent producer: the mock cannot run the idempotent one, see SERVICES.md)',
    destroy: () => kafka.stop(),
  };
});

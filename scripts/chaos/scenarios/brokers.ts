/** RabbitMQ, Mosquitto and nats-server (JetStream) killed with SIGKILL under a webhook's load, then restarted. */
import { startMosquitto, startNats, startRabbitmq } from '../../../test/helpers/brokers.js';
import { mqttSubscriber, natsDeliveries, rabbitmqDeliveries } from '../broker-destinations.js';
import { brokerOutage } from './broker-outage.js';

export const rabbitmqKill = brokerOutage('rabbitmq-kill', 'RabbitMQ killed mid-load and restarted (rabbitmq webhook, publisher confirms)', async () => {
  const broker = await startRabbitmq();
  return {
    connection: { type: 'rabbitmq', host: '127.0.0.1', port: broker.port, user: 'guest', pass: 'guest' },
    webhook: { module: 'rabbitmq', queue_name: 'chaos' },
    destination: 'RabbitMQ durable queue "chaos"',
    fail: () => broker.kill('SIGKILL').then(() => 'RabbitMQ SIGKILLed'),
    recover: () => broker.restart().then(() => 'RabbitMQ restarted (durable queue and persistent messages recovered)'),
    read: () => rabbitmqDeliveries(broker.port, 'chaos'),
    duplicatesNote: 'a publish whose confirm was lost in the kill is retried by the sender and can be stored twice (consumers dedupe on cwm-delivery-id)',
    destroy: () => broker.destroy(),
  };
});

export const mqttKill = brokerOutage('mqtt-kill', 'Mosquitto killed mid-load and restarted (mqtt webhook, QoS 1)', async () => {
  const broker = await startMosquitto();
  const sub = await mqttSubscriber(broker.port, 'chaos/events');
  return {
    connection: { type: 'mqtt', host: '127.0.0.1', port: broker.port, client_id: 'webhook-module', mqtt_version: '3.1.1' },
    webhook: { module: 'mqtt', topic: 'chaos/events' },
    destination: 'a persistent-session QoS 1 subscriber of "chaos/events"',
    fail: () => broker.kill('SIGKILL').then(() => 'Mosquitto SIGKILLed'),
    recover: () => broker.restart().then(() => 'Mosquitto restarted (persistence saved on every change)'),
    read: () => Promise.resolve(sub.read()),
    duplicatesNote: 'QoS 1 is at-least-once: a PUBACK lost in the kill means a sender retry and a second copy',
    destroy: async () => {
      await sub.close();
      await broker.destroy();
    },
  };
});

export const natsKill = brokerOutage('nats-kill', 'nats-server (JetStream) killed mid-load and restarted (nats webhook)', async () => {
  const broker = await startNats();
  return {
    connection: { type: 'nats', host: '127.0.0.1', port: broker.port },
    webhook: { module: 'nats', 'module-config': { subject: 'chaos.events', stream: 'CHAOS', create_stream: true } },
    destination: 'JetStream stream "CHAOS"',
    fail: () => broker.kill('SIGKILL').then(() => 'nats-server SIGKILLed'),
    recover: () => broker.restart().then(() => 'nats-server restarted (file storage restored)'),
    read: () => natsDeliveries(broker.port, 'CHAOS'),
    duplicatesNote: 'the delivery id is the JetStream message id, so retries within the 2-minute duplicate window are stored once',
    destroy: () => broker.destroy(),
  };
});

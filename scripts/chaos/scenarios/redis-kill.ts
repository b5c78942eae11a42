/** Redis (durable: append-only file, fsync per write) killed with SIGKILL under a redis_queue webhook's load, then restarted. */
import { startRedis } from '../../../test/helpers/redis.js';
import { bullmqDeliveries } from '../destinations.js';
import { brokerOutage } from './broker-outage.js';

const QUEUE = 'chaos';

export const redisKill = brokerOutage('redis-kill', 'Redis killed mid-load and restarted (redis_queue webhook)', async () => {
  const redis = await startRedis({ durable: true });
  return {
    connection: { type: 'redis', url: redis.url },
    webhook: { module: 'redis_queue', 'module-config': { queue_name: QUEUE } },
    destination: `BullMQ queue "${QUEUE}"`,
    fail: () => redis.kill('SIGKILL').then(() => 'Redis SIGKILLed'),
    recover: () => redis.restart().then(() => 'Redis restarted (append-only file replayed)'),
    read: () => bullmqDeliveries(redis.url, QUEUE),
    duplicatesNote: 'jobs are keyed by delivery id, so a retry cannot make a second job',
    destroy: () => redis.destroy(),
  };
});

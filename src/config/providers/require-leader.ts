/**
 * gRPC call options that make etcd end a stream when its member has no
 * leader (etcd's `hasleader` metadata, what the Go client's
 * WithRequireLeader sends). Without it a watch on a member cut off from the
 * rest of the cluster stays open and silent: cwm would report etcd healthy
 * while missing every change. With it the stream fails, and the provider
 * reconnects, to a member that does have a leader.
 */
import { InterceptingCall, type CallOptions, type Interceptor } from '@grpc/grpc-js';

const requireLeader: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('hasleader', 'true');
      next(metadata, listener);
    },
  });

export const REQUIRE_LEADER: CallOptions = { interceptors: [requireLeader] };

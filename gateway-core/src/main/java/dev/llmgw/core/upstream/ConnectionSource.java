package dev.llmgw.core.upstream;

import dev.llmgw.core.config.BackendSpec;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.ChannelPool;

/**
 * Where a backend attempt gets its connection: the pool of one backend on one event loop. Every
 * channel a pool hands out ends with a {@link BackendRelayHandler} ({@link BackendRelayHandler#of}).
 * {@link BackendPools} is the real one; tests hand out {@code EmbeddedChannel}s.
 */
public interface ConnectionSource {
  /** The pool for {@code backend} on {@code loop} (the loop of the client the connection serves). */
  ChannelPool pool(BackendSpec backend, EventLoop loop);
}

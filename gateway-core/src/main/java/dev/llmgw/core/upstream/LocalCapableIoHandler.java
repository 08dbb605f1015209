package dev.llmgw.core.upstream;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.channel.local.LocalIoHandler;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * An event loop's I/O handler (epoll or NIO) that also hosts Netty's in-VM channels
 * ({@code LocalChannel}, {@code LocalServerChannel}), so that a connection to an in-process backend
 * lives on its client's event loop like any TCP backend connection.
 *
 * <p>Netty 4.2 registers every channel with its event loop's {@link IoHandler}, and the epoll and NIO
 * handlers refuse in-VM channels ("IoHandle of type LocalChannel$LocalUnsafe not supported"). In-VM
 * channels need nothing from the poller: their reads and writes are tasks on the event loop. So
 * registrations of in-VM handles go to a {@link LocalIoHandler} whose {@code run} is never called, and
 * everything else — the loop's waiting, waking and socket I/O — stays with the delegate. The cost on
 * the socket path is one extra call per loop iteration.
 */
final class LocalCapableIoHandler implements IoHandler {
  private final IoHandler io;
  private final IoHandler local;

  private LocalCapableIoHandler(IoHandler io, IoHandler local) {
    this.io = io;
    this.local = local;
  }

  /** A factory of handlers that host in-VM channels beside what {@code delegate}'s handlers host. */
  static IoHandlerFactory factory(IoHandlerFactory delegate) {
    IoHandlerFactory localFactory = LocalIoHandler.newFactory();
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new LocalCapableIoHandler(delegate.newHandler(executor), localFactory.newHandler(executor));
      }

      @Override
      public boolean isChangingThreadSupported() {
        return delegate.isChangingThreadSupported();
      }
    };
  }

  @Override
  public void initialize() {
    io.initialize();
    local.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return io.run(context); // in-VM channels do their work in tasks, which the delegate's loop runs
  }

  @Override
  public void prepareToDestroy() {
    local.prepareToDestroy();
    io.prepareToDestroy();
  }

  @Override
  public void destroy() {
    local.destroy();
    io.destroy();
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return io.isCompatible(handle.getClass()) ? io.register(handle) : local.register(handle);
  }

  @Override
  public void wakeup() {
    io.wakeup(); // the loop waits in the delegate (epoll_wait / select), never in the local handler
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return io.isCompatible(handleType) || local.isCompatible(handleType);
  }
}

// A subscription's way to its own WebSocket, used by createSharedSubscribe (shared-execution.ts).

/**
 * A SubscriptionChannel lets a subscription write its `next` messages straight to its socket.
 * graphql-ws would otherwise build, check and serialize the same message once per subscriber
 * and wait on a promise for every write; here the payload is serialized once per event and
 * request, and each subscriber only adds its own message id around it.
 */
export interface SubscriptionChannel {
  /**
   * writeNext sends the `next` message `{"id":…,"type":"next","payload":<payload>}` of this
   * subscription, payload being the serialized payload. It returns a promise when the socket could not take the
   * message at once (the client reads slowly): the next event is taken only once it settles, so
   * the source's own rules (newest summary only, a bounded queue of changes) apply to slow
   * clients. It throws, or the promise rejects, when the socket is gone.
   */
  writeNext(payload: string): void | Promise<void>;
}

/** The little of a `ws` WebSocket that socketChannel uses. */
export interface ChannelSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes handed to send() that the operating system has not taken yet. */
  readonly bufferedAmount: number;
  send(data: string, cb: (err?: Error) => void): void;
}

/**
 * socketChannel writes one subscription's messages to its WebSocket. A message the socket takes
 * at once needs no waiting; otherwise the subscription waits until the socket has flushed what it
 * holds, so a client that reads slowly never has more than one message queued for it here.
 */
export function socketChannel(socket: ChannelSocket, id: string): SubscriptionChannel {
  return new SocketChannel(socket, JSON.stringify(id));
}

// Each idle dashboard holds one SocketChannel: only its id (serialized) is its own, and the message
// around a payload is put together when it is written.
class SocketChannel implements SubscriptionChannel {
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  // One callback for every write of the subscription, not a closure per message (bound, not an
  // arrow field: that would be a closure of its own per subscription).
  private readonly written: (err?: Error) => void = this.onWritten.bind(this);

  constructor(
    private readonly socket: ChannelSocket,
    private readonly idJson: string,
  ) {}

  writeNext(payload: string): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (this.socket.readyState !== this.socket.OPEN) throw new Error('the WebSocket is closed');
    this.socket.send('{"id":' + this.idJson + ',"type":"next","payload":' + payload + '}', this.written);
    return this.socket.bufferedAmount > 0 ? this.drained() : undefined;
  }

  private onWritten(err?: Error) {
    if (err) this.failure ??= err;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async drained() {
    while (!this.failure && this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount > 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }
}

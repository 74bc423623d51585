// One client connection: frames in, one request at a time through the router, answers out in
// order. A client that floods requests or stops reading is slowed by backpressure (we stop
// reading from it) rather than buffered without bound. A client that half-closes (shutdown
// SHUT_WR) after its requests still gets every answer; the connection closes after the last.
import EdgeCore
import Foundation
import Logging
import NIOCore

/// Sent through every connection's pipeline when the server shuts down: close once idle.
struct RPCQuiesceEvent: Sendable {}

final class RPCConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: RPCRouter
    private let maxQueuedFrames: Int
    private var logger: Logger
    private var framer: JSONRPCLineFramer
    /// Frames received but not yet answered, in arrival order.
    private var queue = CircularBuffer<JSONRPCLineFramer.Event>()
    /// Fixed at accept from the connect-time credentials; never re-read.
    private let peer: RPCPeer
    /// The client shut down its sending side: answer what is queued, then close.
    private var inputClosed = false
    /// A request of this connection is running in the router.
    private var busy = false
    /// A read was held back because the queue is full.
    private var readHeld = false
    private var active = false
    private var closeWhenIdle = false
    /// The most recent answer's write, so that a closing connection sends it first.
    private var lastWrite: EventLoopFuture<Void>?

    init(router: RPCRouter, peer: RPCPeer, maxFrameBytes: Int, maxQueuedFrames: Int, logger: Logger) {
        self.router = router
        self.peer = peer
        self.maxQueuedFrames = maxQueuedFrames
        self.logger = logger
        self.logger[metadataKey: "peer_pid"] = "\(peer.pid)"
        self.logger[metadataKey: "peer_uid"] = "\(peer.uid)"
        self.framer = JSONRPCLineFramer(maxLineBytes: maxFrameBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { active = true }
    }

    func channelActive(context: ChannelHandlerContext) {
        active = true
        logger.debug("RPC client connected", metadata: ["can_write": "\(peer.canWrite)"])
        processQueue(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        queue.removeAll()
        logger.debug("RPC client disconnected")
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        active = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let events = buffer.withUnsafeReadableBytes { framer.feed($0) }
        queue.append(contentsOf: events)
        processQueue(context: context)
    }

    /// Backpressure: reads pass only while the queue has room.
    func read(context: ChannelHandlerContext) {
        if queue.count >= maxQueuedFrames {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        processQueue(context: context)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // A running request is not idleness; a stalled half line is.
            if !busy && queue.isEmpty {
                logger.info("closing idle RPC connection", metadata: [
                    "buffered_bytes": "\(framer.bufferedByteCount)",
                ])
                context.close(promise: nil)
            }
            return
        }
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            // A final line without its newline still counts as a frame.
            inputClosed = true
            queue.append(contentsOf: framer.feed(CollectionOfOne(UInt8(ascii: "\n"))))
            processQueue(context: context)
            return
        }
        if event is RPCQuiesceEvent {
            closeWhenIdle = true
            processQueue(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("RPC connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Request processing

    private func processQueue(context: ChannelHandlerContext) {
        guard active else { return }
        while !busy, context.channel.isWritable, let event = queue.popFirst() {
            switch event {
            case .oversized(let limit):
                write(context: context, JSONRPCCodec.encodeError(id: .null, JSONRPCErrorObject(
                    code: .invalidRequest, message: "invalid request: frame exceeds the limit of \(limit) bytes")))
            case .line(let frame):
                dispatch(frame, context: context)
            }
        }
        if (closeWhenIdle || inputClosed) && !busy && queue.isEmpty {
            // Close once the last answer has left, not while it may still sit in our buffer.
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            (lastWrite ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in
                bound.value.close(promise: nil)
            }
            return
        }
        if readHeld && queue.count < maxQueuedFrames {
            readHeld = false
            context.read()
        }
    }

    /// Runs the router off the event loop (handlers may await) and comes back to write.
    private func dispatch(_ frame: Data, context: ChannelHandlerContext) {
        busy = true
        let router = self.router
        let peer = self.peer
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: eventLoop)
        Task {
            let response = await router.handle(frame: frame, peer: peer)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.busy = false
                if let response, handler.active { handler.write(context: context, response) }
                handler.processQueue(context: context)
            }
        }
    }

    private func write(context: ChannelHandlerContext, _ frame: Data) {
        var buffer = context.channel.allocator.buffer(capacity: frame.count + 1)
        buffer.writeBytes(frame)
        buffer.writeInteger(UInt8(ascii: "\n"))
        // `lastWrite` is set before the write starts: a large answer makes the channel
        // unwritable inside `writeAndFlush`, and the writability event runs `processQueue`
        // right there. A half-closed connection with nothing left to do then closes after
        // `lastWrite`, which must already be this answer, not the one before it (that bug
        // lost every large answer after a half-close).
        let promise = context.eventLoop.makePromise(of: Void.self)
        lastWrite = promise.futureResult
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }
}

/// Installed instead of `RPCConnectionHandler` when the server (or the peer's share of it) is
/// full: one error line, then close.
final class RPCRejectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let line: Data

    init(message: String) {
        var line = JSONRPCCodec.encodeError(id: .null, JSONRPCErrorObject(code: .unavailable, message: message))
        line.append(UInt8(ascii: "\n"))
        self.line = line
    }

    private var sent = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var buffer = context.channel.allocator.buffer(capacity: line.count)
        buffer.writeBytes(line)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the rejected client sends is dropped.
    }
}

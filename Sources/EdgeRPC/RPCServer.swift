// The daemons' local RPC endpoint: a NIO server on a Unix stream socket that owns the socket
// file's lifecycle (stale cleanup, group and mode, unlink on shutdown) and enforces the
// per-server limits. Requests are answered by an RPCRouter.
import EdgeCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A JSON-RPC 2.0 server on a Unix stream socket.
///
/// Lifecycle: `start()` binds and returns once clients can connect (a daemon then reports
/// readiness); `run()` waits until `shutdown()` (it starts the server itself if needed, and
/// shuts it down if its task is cancelled). `shutdown()` stops accepting, lets running requests
/// finish within `shutdownGracePeriod`, closes every connection and unlinks the socket file.
public final class RPCServer: Sendable {
    /// The settings the server was made with.
    public let configuration: RPCServerConfiguration
    private let router: RPCRouter
    private let logger: Logger
    private let group: any EventLoopGroup

    private enum State {
        case idle
        case starting
        case listening(channel: any Channel, inode: UInt64?)
        case stopping
        case stopped
    }

    private let state = Mutex<State>(.idle)
    private let children = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let connectedClients = Atomic<Int>(0)
    /// Open connections per non-root uid (the per-peer bound).
    private let perUID = Mutex<[UInt32: Int]>([:])
    /// Who may write, and the client limit after the descriptor reserve; set by `start()`.
    private let limits = Mutex<(permission: RPCPermission, maxClients: Int)>((RPCPermission(), 0))
    private let stopped: EventLoopPromise<Void>

    /// - Parameters:
    ///   - router: the method table; copied, so build it completely first.
    ///   - eventLoopGroup: NIO threads for the sockets (handlers run as Swift tasks).
    public init(
        configuration: RPCServerConfiguration,
        router: RPCRouter,
        logger: Logger = Logger(label: "edgenode.rpc"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        var router = router
        router.maxBatchRequests = configuration.maxBatchRequests
        self.router = router
        var logger = logger
        logger[metadataKey: "socket"] = "\(configuration.socketPath)"
        self.logger = logger
        self.group = eventLoopGroup
        self.stopped = eventLoopGroup.next().makePromise(of: Void.self)
    }

    /// Clients connected right now (rejected ones included until they are closed).
    public var connectedClientCount: Int { connectedClients.load(ordering: .relaxed) }

    /// Binds the socket and starts accepting. Returns when clients can connect.
    /// Calling it again while listening does nothing.
    /// - Throws: `RPCServerError` for file-system problems or a live server on the path,
    ///   NIO's errors for bind failures, `.alreadyShutDown` after `shutdown()`.
    public func start() async throws {
        let proceed = try state.withLock { state -> Bool in
            switch state {
            case .idle:
                state = .starting
                return true
            case .starting, .listening:
                return false
            case .stopping, .stopped:
                throw RPCServerError.alreadyShutDown
            }
        }
        guard proceed else { return }

        let path = configuration.socketPath
        let channel: any Channel
        let inode: UInt64?
        do {
            let permission = try RPCServerLimits.permission(adminGroup: configuration.adminGroup, logger: logger)
            let maxClients = RPCServerLimits.clientLimit(configuration, logger: logger)
            limits.withLock { $0 = (permission, maxClients) }
            try RPCSocketFile.prepare(path: path)
            channel = try await makeBootstrap().bind(unixDomainSocketPath: path).get()
            inode = RPCSocketFile.inode(path: path)
            do {
                try RPCSocketFile.applyAccess(path: path, inode: inode, group: configuration.socketGroup, logger: logger)
            } catch {
                try? await channel.close()
                RPCSocketFile.remove(path: path, inode: inode)
                throw error
            }
        } catch {
            state.withLock { $0 = .stopped }
            stopped.succeed()
            throw error
        }

        let shutDownMeanwhile = state.withLock { state -> Bool in
            if case .starting = state {
                state = .listening(channel: channel, inode: inode)
                return false
            }
            return true
        }
        if shutDownMeanwhile {
            try? await channel.close()
            finishStopping(inode: inode)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            // The listening socket closed without shutdown() (an accept error): clean up the same way.
            Task { await self.shutdown() }
        }
        logger.info("RPC server listening", metadata: [
            "group": "\(configuration.socketGroup ?? "-")",
            "admin_group": "\(configuration.adminGroup ?? "-")",
            "max_clients": "\(limits.withLock { $0.maxClients })",
            "max_clients_per_uid": "\(configuration.maxClientsPerUID)",
        ])
    }

    /// Runs until `shutdown()`. Starts the server first if `start()` was not called.
    public func run() async throws {
        let needsStart = state.withLock { state -> Bool in
            if case .idle = state { return true }
            return false
        }
        if needsStart { try await start() }
        try await withTaskCancellationHandler {
            try await stopped.futureResult.get()
        } onCancel: {
            Task { await self.shutdown() }
        }
    }

    /// Stops accepting, closes connections (after their running request, within the grace
    /// period) and unlinks the socket file. Safe to call more than once and from any task.
    public func shutdown() async {
        let listening = state.withLock { state -> (any Channel, UInt64?)? in
            switch state {
            case .idle:
                state = .stopped
                stopped.succeed()
                return nil
            case .starting:
                state = .stopping  // start() sees it after bind and stops
                return nil
            case .listening(let channel, let inode):
                state = .stopping
                return (channel, inode)
            case .stopping, .stopped:
                return nil
            }
        }
        guard let (channel, inode) = listening else {
            try? await stopped.futureResult.get()
            return
        }
        try? await channel.close()

        let open = Array(children.withLock { $0.values })
        for child in open {
            child.pipeline.fireUserInboundEventTriggered(RPCQuiesceEvent())
        }
        let loop = group.next()
        let forceClose = loop.scheduleTask(in: TimeAmount(configuration.shutdownGracePeriod)) {
            for child in open { child.close(promise: nil) }
        }
        try? await EventLoopFuture.andAllComplete(open.map(\.closeFuture), on: loop).get()
        forceClose.cancel()
        finishStopping(inode: inode)
    }

    // MARK: - Internals

    private func finishStopping(inode: UInt64?) {
        RPCSocketFile.remove(path: configuration.socketPath, inode: inode)
        state.withLock { $0 = .stopped }
        logger.info("RPC server stopped")
        stopped.succeed()
    }

    private func makeBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // A client's shutdown(SHUT_WR) must not close our side before its answers are sent.
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                let (permission, _) = limits.withLock { $0 }
                return PeerCredentials.resolve(channel, policy: permission).flatMapThrowing { peer in
                    try self.initializeConnection(channel, peer: peer)
                }
            }
    }

    /// Runs on the new connection's event loop, with the peer's connect-time credentials.
    /// Non-root peers are refused beyond `maxClients - rootReservedClients` connections in all
    /// and beyond `maxClientsPerUID` of their own; root only beyond `maxClients`.
    private func initializeConnection(_ channel: any Channel, peer: RPCPeer) throws {
        let count = connectedClients.wrappingAdd(1, ordering: .relaxed).newValue
        let key = ObjectIdentifier(channel)
        children.withLock { $0[key] = channel }
        let isRoot = peer.uid == 0
        let own = isRoot ? 0 : perUID.withLock { counts -> Int in
            counts[peer.uid, default: 0] += 1
            return counts[peer.uid]!
        }
        channel.closeFuture.whenComplete { [self] _ in
            connectedClients.wrappingSubtract(1, ordering: .relaxed)
            children.withLock { _ = $0.removeValue(forKey: key) }
            if !isRoot {
                perUID.withLock { counts in
                    let left = counts[peer.uid, default: 1] - 1
                    counts[peer.uid] = left > 0 ? left : nil
                }
            }
        }
        let maxClients = limits.withLock { $0.maxClients }
        let allowed = isRoot ? maxClients : maxClients - configuration.rootReservedClients
        if count > allowed {
            logger.warning("RPC client refused: too many clients", metadata: [
                "limit": "\(maxClients)", "uid": "\(peer.uid)", "pid": "\(peer.pid)"])
            try channel.pipeline.syncOperations.addHandler(RPCRejectHandler(
                message: "server busy: too many clients connected (limit \(maxClients), rpc.max_clients)"))
            return
        }
        if own > configuration.maxClientsPerUID {
            logger.debug("RPC client refused: too many connections of one uid", metadata: [
                "limit": "\(configuration.maxClientsPerUID)", "uid": "\(peer.uid)", "pid": "\(peer.pid)"])
            try channel.pipeline.syncOperations.addHandler(RPCRejectHandler(
                message: "server busy: uid \(peer.uid) already has \(own - 1) connections (limit \(configuration.maxClientsPerUID), rpc.max_clients_per_uid)"))
            return
        }
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)),
            RPCConnectionHandler(
                router: router,
                peer: peer,
                maxFrameBytes: configuration.maxFrameBytes,
                maxQueuedFrames: configuration.maxQueuedFramesPerClient,
                logger: logger),
        ])
    }
}

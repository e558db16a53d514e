// Events as an AsyncStream. Platform-neutral: also compiled into the Linux test package.

import Foundation

/// An ``EventListener`` that hands the library's events to Swift Concurrency.
///
/// The library calls ``onEvent(event:)`` from one thread of its own, in order; the events are buffered
/// (unbounded by default) until a task reads ``events``. The stream finishes when ``finish()`` is called or
/// when the library lets go of the listener (after ``FieldSync/shutdown()``), so a `for await` loop ends
/// by itself once the `FieldSync` instance is shut down.
///
/// ```swift
/// let (fieldSync, events) = try await FieldSync.openWithEvents(config: config, secretStore: KeychainSecretStore())
/// Task { for await event in events { await MainActor.run { model.apply(event) } } }
/// ```
///
/// An `AsyncStream` has one consumer: create one listener per `FieldSync` and fan out in the app if
/// several screens need the events.
public final class FieldSyncEventStream: EventListener {
    /// The events, in the order the library delivered them.
    public let events: AsyncStream<FieldSyncEvent>
    private let continuation: AsyncStream<FieldSyncEvent>.Continuation

    /// - Parameter bufferingPolicy: what to keep while nobody reads (`.unbounded` by default; status
    ///   events are already coalesced by the library, so bursts stay small).
    public init(bufferingPolicy: AsyncStream<FieldSyncEvent>.Continuation.BufferingPolicy = .unbounded) {
        (events, continuation) = AsyncStream.makeStream(of: FieldSyncEvent.self, bufferingPolicy: bufferingPolicy)
    }

    deinit {
        continuation.finish()
    }

    /// Called by the library (from its event thread).
    public func onEvent(event: FieldSyncEvent) {
        continuation.yield(event)
    }

    /// Ends ``events``; later events are dropped.
    public func finish() {
        continuation.finish()
    }
}

extension FieldSync {
    /// Opens the library off the caller's actor (FieldSync+Async.swift) with a ``FieldSyncEventStream`` as its
    /// listener and returns its stream.
    public static func openWithEvents(
        config: FieldSyncConfig,
        secretStore: SecretStore,
        bufferingPolicy: AsyncStream<FieldSyncEvent>.Continuation.BufferingPolicy = .unbounded
    ) async throws -> (FieldSync, AsyncStream<FieldSyncEvent>) {
        let listener = FieldSyncEventStream(bufferingPolicy: bufferingPolicy)
        let fieldSync = try await FieldSync.open(config: config, secretStore: secretStore, listener: listener)
        return (fieldSync, listener.events)
    }
}

extension FieldSyncEvent {
    /// The integration the event is about (nil for events about a photo).
    public var integrationCode: String? {
        switch self {
        case let .integrationStatusChanged(code, _, _): return code
        case let .importFinished(code, _, _, _, _, _, _): return code
        default: return nil
        }
    }
}

// Loggers for the library's `initLogging`. The library never puts secrets in its messages.
//
// Note: this module defines its own `Logger` protocol (generated); Apple's is written `os.Logger` here.

import Foundation

#if canImport(os)
import os
#endif

/// A logger that calls a closure (from whichever library thread logs). Platform-neutral.
public final class ClosureLogger: Logger {
    private let handler: @Sendable (LogLevel, String, String) -> Void

    /// - Parameter handler: receives the level, the target (the Rust module) and the message.
    public init(_ handler: @escaping @Sendable (LogLevel, String, String) -> Void) {
        self.handler = handler
    }

    public func log(level: LogLevel, target: String, message: String) {
        handler(level, target, message)
    }
}

#if canImport(os)
/// Sends the library's logs to the unified logging system (Console.app, `log stream`), one category per
/// Rust module (`fieldsync_core::sync`...). Messages are public: the library never logs secrets, and
/// private messages would show as `<private>` on a device.
@available(iOS 14.0, macOS 11.0, tvOS 14.0, watchOS 7.0, *)
public final class OSLogLogger: Logger, @unchecked Sendable {
    /// The subsystem, usually the app's bundle identifier plus `.fieldsync`.
    public let subsystem: String
    private let lock = NSLock()
    private var loggers: [String: os.Logger] = [:]

    public init(subsystem: String = (Bundle.main.bundleIdentifier ?? "fieldsync") + ".fieldsync") {
        self.subsystem = subsystem
    }

    public func log(level: LogLevel, target: String, message: String) {
        let logger = self.logger(for: target)
        switch level {
        case .error: logger.error("\(message, privacy: .public)")
        case .warn: logger.warning("\(message, privacy: .public)")
        case .info: logger.info("\(message, privacy: .public)")
        case .debug: logger.debug("\(message, privacy: .public)")
        }
    }

    private func logger(for target: String) -> os.Logger {
        lock.lock()
        defer { lock.unlock() }
        if let logger = loggers[target] { return logger }
        let logger = os.Logger(subsystem: subsystem, category: target)
        loggers[target] = logger
        return logger
    }
}
#endif

package dev.fieldsync

import dev.fieldsync.ffi.LogLevel
import dev.fieldsync.ffi.Logger
import dev.fieldsync.ffi.initLogging

/**
 * Routes the library's logs (Rust `tracing`) to the host. Platform-neutral; on Android pass
 * `dev.fieldsync.android.LogcatLogger` (src/androidMain), on the JVM anything (the tests collect lines).
 *
 * Effective once per process: the first call wins, later calls are ignored by the library. Messages never
 * hold passwords, tokens or push keys.
 */
object FieldSyncLogging {
    /** Sends lines at [level] and above to [logger]. */
    fun install(logger: Logger, level: LogLevel = LogLevel.INFO) = initLogging(SafeLogger(logger), level)

    /** Sends lines at [level] and above to [sink] (`level`, `target` i.e. the Rust module, `message`). */
    fun install(level: LogLevel = LogLevel.INFO, sink: (LogLevel, String, String) -> Unit) =
        install(
            object : Logger {
                override fun log(level: LogLevel, target: String, message: String) = sink(level, target, message)
            },
            level,
        )
}

/** A logger must never throw back into the library: a failing sink loses the line, not the call. */
private class SafeLogger(private val inner: Logger) : Logger {
    override fun log(level: LogLevel, target: String, message: String) {
        try {
            inner.log(level, target, message)
        } catch (_: Throwable) {
            // Nothing sensible to do: the line is lost.
        }
    }
}

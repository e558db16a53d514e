// ANDROID ONLY: compiled by the Gradle build, never by scripts/test-kotlin.sh.
package dev.fieldsync.android

import android.util.Log
import dev.fieldsync.ffi.LogLevel
import dev.fieldsync.ffi.Logger

/**
 * Forwards the library's logs to Logcat under one [tag] (at most 23 characters: API 24/25 refuse longer
 * tags), with the Rust module as a prefix: `D fieldsync: [fieldsync_core::sync::engine] downloaded work orders`.
 *
 * Install once, early: `FieldSyncLogging.install(LogcatLogger(), LogLevel.INFO)`.
 */
class LogcatLogger(private val tag: String = "fieldsync") : Logger {
    init {
        require(tag.length <= 23) { "Logcat tags are limited to 23 characters before API 26" }
    }

    override fun log(level: LogLevel, target: String, message: String) {
        val priority = when (level) {
            LogLevel.ERROR -> Log.ERROR
            LogLevel.WARN -> Log.WARN
            LogLevel.INFO -> Log.INFO
            LogLevel.DEBUG -> Log.DEBUG
        }
        Log.println(priority, tag, "[$target] $message")
    }
}

package dev.fieldsync

import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.RetentionPolicy
import java.io.File

/**
 * Everything fieldsync keeps on the device, in one directory the app picks: the cache database (with its
 * WAL), the photo store and, inside the database, the device id. On Android the directory is
 * `noBackupFilesDir/fieldsync` ([dev.fieldsync.android.FieldSyncAndroid.open] does it): Auto Backup and
 * device-to-device transfer skip it, so a restored or cloned phone starts empty with a new device id,
 * never with another phone's id or half of its queue.
 *
 * ```kotlin
 * val client = FieldSyncClient.open(FieldSyncDirectory.config(File(noBackupFilesDir, "fieldsync")), secrets)
 * ```
 */
object FieldSyncDirectory {
    /** The cache database's file name inside the directory. */
    const val DATABASE = "cache.db"

    /** The photo store's folder name inside the directory. */
    const val PHOTOS = "photos"

    /**
     * The configuration that keeps everything in [directory] (created, owner-only, if missing), with the
     * database's own device id. Throws [FieldSyncException.Storage] when the directory cannot be made.
     */
    fun config(
        directory: File,
        relayConcurrency: UInt? = null,
        retention: RetentionPolicy? = null,
    ): FieldSyncConfig {
        if (!directory.isDirectory && !directory.mkdirs()) {
            throw FieldSyncException.Storage("cannot create the fieldsync directory $directory")
        }
        // Owner only, as the library makes its own files; other apps never share the uid, but a rooted
        // device's backup tool or a debug shell running as another user reads no work order.
        directory.setReadable(false, false)
        directory.setWritable(false, false)
        directory.setExecutable(false, false)
        if (!(directory.setReadable(true, true) && directory.setWritable(true, true) && directory.setExecutable(true, true))) {
            throw FieldSyncException.Storage("cannot make the fieldsync directory $directory private")
        }
        return FieldSyncConfig(
            databasePath = File(directory, DATABASE).path,
            photoDirectory = File(directory, PHOTOS).path,
            deviceId = null,
            relayConcurrency = relayConcurrency,
            retention = retention,
        )
    }
}

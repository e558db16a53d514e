// Where fieldsync keeps its files in an app: one directory, out of device backups. Platform-neutral: also
// compiled into the Linux test package (where there is no backup to exclude from).

import Foundation

/// Everything fieldsync keeps on the device, in one directory: the cache database (with its WAL), the
/// photo store and, inside the database, the device id. The directory is excluded from iCloud and Finder
/// backups (`isExcludedFromBackup`), so a phone restored from a backup starts empty with a new device id,
/// never with another phone's id or half of its queue. The Keychain items are `ThisDeviceOnly` for the
/// same reason.
///
/// ```swift
/// let config = try FieldSyncDirectory.config(in: FieldSyncDirectory.standard())
/// let fieldSync = try await FieldSync.open(config: config, secretStore: KeychainSecretStore())
/// ```
public enum FieldSyncDirectory {
    /// The cache database's file name inside the directory.
    public static let database = "cache.db"
    /// The photo store's folder name inside the directory.
    public static let photos = "photos"

    /// `Application Support/fieldsync` of the app's container (not yet created).
    public static func standard() throws -> URL {
        do {
            let support = try FileManager.default.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            return support.appendingPathComponent("fieldsync", isDirectory: true)
        } catch {
            throw FieldSyncError.Storage(reason: "cannot find Application Support: \(error.localizedDescription)")
        }
    }

    /// The configuration that keeps everything in `directory`, created owner-only and excluded from
    /// backups, with the database's own device id. Throws `FieldSyncError.Storage` when it cannot be made.
    public static func config(
        in directory: URL,
        relayConcurrency: UInt32? = nil,
        retention: RetentionPolicy? = nil
    ) throws -> FieldSyncConfig {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
            try excludeFromBackup(directory)
        } catch let error as FieldSyncError {
            throw error
        } catch {
            throw FieldSyncError.Storage(
                reason: "cannot prepare the fieldsync directory \(directory.path): \(error.localizedDescription)")
        }
        return FieldSyncConfig(
            databasePath: directory.appendingPathComponent(database).path,
            photoDirectory: directory.appendingPathComponent(photos, isDirectory: true).path,
            deviceId: nil,
            relayConcurrency: relayConcurrency,
            retention: retention
        )
    }

    /// Whether backups skip `directory`: the resource value on Apple platforms, `nil` elsewhere (no backups).
    public static func isExcludedFromBackup(_ directory: URL) -> Bool? {
        #if canImport(Darwin)
        return (try? directory.resourceValues(forKeys: [.isExcludedFromBackupKey]))?.isExcludedFromBackup
        #else
        return nil
        #endif
    }

    private static func excludeFromBackup(_ directory: URL) throws {
        #if canImport(Darwin)
        // On the directory: backups skip it with everything inside, files made later included.
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        var url = directory
        try url.setResourceValues(values)
        #endif
    }
}

// Implementations of the library's `SecretStore`: the Keychain for apps, a memory store for tests and
// previews. The library keeps no secret in its SQLite cache: it stores the password's SHA-1, the API token
// and the push key here, under keys like `ACME/password_sha1`.

import Foundation

#if canImport(Security)
import Security
#endif

/// Secrets held in memory only (tests, SwiftUI previews, a demo). Thread-safe.
public final class InMemorySecretStore: SecretStore, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String]

    /// - Parameter values: initial contents.
    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public func get(key: String) throws -> String? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }

    public func set(key: String, value: String) throws {
        lock.lock()
        defer { lock.unlock() }
        values[key] = value
    }

    public func delete(key: String) throws {
        lock.lock()
        defer { lock.unlock() }
        values[key] = nil
    }

    /// Everything stored, for assertions in tests.
    public var snapshot: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

#if canImport(Security)
/// Secrets in the Keychain as generic passwords (`kSecClassGenericPassword`), one item per key, under one
/// service name. Items are readable after the first unlock and never leave the device
/// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`), so background refreshes work while the phone is
/// locked and backups do not carry them.
public final class KeychainSecretStore: SecretStore, @unchecked Sendable {
    /// The Keychain service the items are filed under.
    public let service: String
    /// An access group shared with app extensions, if any.
    public let accessGroup: String?

    public init(service: String = "fieldsync", accessGroup: String? = nil) {
        self.service = service
        self.accessGroup = accessGroup
    }

    private func query(_ key: String) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }

    public func get(key: String) throws -> String? {
        var request = query(key)
        request[kSecReturnData as String] = true
        request[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(request as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            // Saved but unreadable: the user signs in again (a missing item would read as never signed in).
            guard let data = result as? Data, let value = String(data: data, encoding: .utf8) else {
                throw FieldSyncError.SecretUnreadable(reason: "keychain: the item \(key) is not UTF-8 text",
                                                      integration: nil)
            }
            return value
        case errSecItemNotFound:
            return nil
        default:
            throw Self.failure("read", key, status)
        }
    }

    public func set(key: String, value: String) throws {
        let data = Data(value.utf8)
        let update: [String: Any] = [
            kSecValueData as String: data,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(query(key) as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            var add = query(key)
            add.merge(update) { _, new in new }
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw Self.failure("write", key, status) }
    }

    public func delete(key: String) throws {
        let status = SecItemDelete(query(key) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.failure("delete", key, status)
        }
    }

    /// Never includes the value: only the key and the OSStatus.
    private static func failure(_ operation: String, _ key: String, _ status: OSStatus) -> FieldSyncError {
        let description = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)"
        return FieldSyncError.Storage(reason: "keychain: cannot \(operation) \(key): \(description)")
    }
}
#endif

package dev.fieldsync.support

import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.SecretStore
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/**
 * A [SecretStore] in memory, for tests and the benchmark. [failWrites] makes `set` throw the given error (or
 * a plain RuntimeException when [failWithUnexpected]) to exercise the library's error path through callbacks;
 * the keys in [undecryptable] read as a Keystore store reads a value whose key is gone.
 */
class InMemorySecretStore : SecretStore {
    val values = ConcurrentHashMap<String, String>()
    val calls = AtomicInteger()

    @Volatile var failWrites: Boolean = false
    @Volatile var failWithUnexpected: Boolean = false
    @Volatile var undecryptable: Set<String> = emptySet()

    override fun get(key: String): String? {
        calls.incrementAndGet()
        if (key in undecryptable && values.containsKey(key)) {
            throw FieldSyncException.SecretUnreadable("keystore: cannot decrypt $key (KeyPermanentlyInvalidatedException)", null)
        }
        return values[key]
    }

    override fun set(key: String, value: String) {
        calls.incrementAndGet()
        if (failWrites) {
            if (failWithUnexpected) throw IllegalStateException("keystore exploded")
            throw FieldSyncException.Storage("keystore locked")
        }
        values[key] = value
    }

    override fun delete(key: String) {
        calls.incrementAndGet()
        values.remove(key)
    }
}

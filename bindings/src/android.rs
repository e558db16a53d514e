//! Android only: the JNI entry point through which `FieldSyncAndroid.initPlatformVerifier` gives
//! rustls-platform-verifier the JVM and the application context. Without it every https request fails in
//! the TLS handshake, because on Android the verifier asks the platform's TrustManager through JNI.

#![allow(unsafe_code)] // `#[unsafe(no_mangle)]`: the JVM finds native methods by their exported name.

use jni::EnvUnowned;
use jni::objects::{JClass, JObject};

/// `dev.fieldsync.android.FieldSyncAndroid.nativeInitPlatformVerifier(Context)`. Idempotent (the verifier
/// keeps the first initialisation). A failure, or a panic, reaches Kotlin as a `RuntimeException` rather
/// than unwinding into the JVM.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_fieldsync_android_FieldSyncAndroid_nativeInitPlatformVerifier<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    context: JObject<'local>,
) {
    env.with_env(|env| rustls_platform_verifier::android::init_with_env(env, context))
        .resolve::<jni::errors::ThrowRuntimeExAndDefault>()
}

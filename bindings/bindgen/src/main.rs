//! `uniffi-bindgen`, built from the same uniffi version as `fieldsync-ffi` so the generated Kotlin, Swift
//! and Python always match the library's scaffolding.

fn main() {
    uniffi::uniffi_bindgen_main()
}

// Lets this module build on its own (`cd android && gradle assembleRelease`). An app that includes the module
// in its own build (`include(":fieldsync")`, `project(":fieldsync").projectDir = file("../fieldsync/android")`)
// declares the same plugins and repositories in its own settings instead.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        // Bump together: Kotlin 2.4.20 is the compiler scripts/test-kotlin.sh checks the generated code with.
        id("com.android.library") version "8.7.3"
        id("org.jetbrains.kotlin.android") version "2.4.20"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        // The Kotlin half of rustls-platform-verifier (TLS certificate checks through Android's TrustManager).
        maven("https://github.com/rustls/rustls-platform-verifier/raw/maven-archive/android-release-support/maven/")
    }
}

rootProject.name = "fieldsync-android"

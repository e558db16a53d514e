//! Start, stop, persistence, loopback-only.

use std::net::{SocketAddr, TcpStream};

use fieldsync_provider::{ProviderConfig, ProviderError, start};
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn a_database_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = ProviderConfig {
        db_path: Some(dir.path().join("sub/provider.db")),
        ..ProviderConfig::default()
    };
    {
        let provider = start(config.clone()).unwrap();
        provider.admin().create_user(USER, PASSWORD, TOKEN).unwrap();
        provider
            .admin()
            .create_work_order(order("K-1", Some(USER)))
            .unwrap();
        let env = Env {
            provider,
            client: client(),
        };
        env.upload(&picture("u-1", "K-1"), Some(b"bytes".to_vec()))
            .unwrap();
        env.provider.stop().unwrap();
    }
    assert!(dir.path().join("sub/provider.db-files").is_dir());
    let provider = start(config).unwrap();
    let env = Env {
        provider,
        client: client(),
    };
    assert_eq!(
        numbers(&env.pull(Value::Null)),
        vec![("K-1".into(), "Open".into())]
    );
    assert_eq!(env.provider.admin().item_file("u-1").unwrap().unwrap(), b"bytes");
}

#[test]
fn stopping_or_dropping_closes_the_port() {
    let env = env();
    let addr = env.provider.addr();
    assert!(env.provider.base_url().starts_with("http://127.0.0.1:"));
    assert!(env.provider.base_url().ends_with("/api/v2"));
    assert_eq!(
        env.call("validate", &with_auth(json!({}))).0,
        reqwest::StatusCode::OK
    );
    drop(env);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_non_loopback_address_is_refused_by_default() {
    let config = ProviderConfig {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        ..ProviderConfig::default()
    };
    assert!(matches!(start(config), Err(ProviderError::NonLoopback(_))));
}

#[test]
fn the_temporary_database_is_removed_after_drop() {
    let provider = start(ProviderConfig {
        seed_demo: true,
        ..ProviderConfig::default()
    })
    .unwrap();
    assert_eq!(provider.admin().health().unwrap().work_orders, 11);
    let db = provider.state().db_path().to_owned();
    let files = provider.state().files_dir().to_owned();
    assert!(db.is_file() && files.is_dir());
    drop(provider);
    assert!(!db.exists() && !files.exists(), "temporary database left behind");
}

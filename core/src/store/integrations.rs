//! Integration records: create, edit, list, show, delete, and their import status.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Store;
use crate::model::{
    CheckInSettings, DefaultAssignTo, Integration, IntegrationEdit, IntegrationStatus, IntegrationType, Mode,
    NewIntegration, Timestamp, now,
};
use crate::model::{StatusEvent, next_status};
use crate::{Error, Result};

const COLUMNS: &str = "code, name, type, mode, status, last_refreshed, last_error, publish_to, username, base_url, \
     service_extension, auto_admin, default_work_type, default_assign_to, auto_relay, auto_import, check_in, \
     sync_cursor, validated_at";

fn from_row(row: &Row) -> rusqlite::Result<Integration> {
    let text_error = |index: usize, err: crate::model::InvalidInput| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    };
    let json_error = |index: usize, err: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    };
    Ok(Integration {
        code: row.get(0)?,
        name: row.get(1)?,
        kind: IntegrationType::parse(&row.get::<_, String>(2)?).map_err(|err| text_error(2, err))?,
        mode: Mode::parse(&row.get::<_, String>(3)?).map_err(|err| text_error(3, err))?,
        status: IntegrationStatus::parse(&row.get::<_, String>(4)?).map_err(|err| text_error(4, err))?,
        last_refreshed: row.get(5)?,
        last_error: row.get(6)?,
        publish_to: serde_json::from_str(&row.get::<_, String>(7)?).map_err(|err| json_error(7, err))?,
        username: row.get(8)?,
        base_url: row.get(9)?,
        service_extension: row.get(10)?,
        auto_admin: row.get(11)?,
        default_work_type: row.get(12)?,
        default_assign_to: DefaultAssignTo::parse(&row.get::<_, String>(13)?)
            .map_err(|err| text_error(13, err))?,
        auto_relay: row.get(14)?,
        auto_import: row.get(15)?,
        check_in: serde_json::from_str::<CheckInSettings>(&row.get::<_, String>(16)?)
            .map_err(|err| json_error(16, err))?,
        sync_cursor: row.get(17)?,
        validated_at: row.get(18)?,
    })
}

pub(crate) fn find(connection: &Connection, code: &str) -> Result<Integration> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM integrations WHERE code = ?1"),
            [code],
            from_row,
        )
        .optional()?
        .ok_or_else(|| Error::UnknownIntegration(code.to_owned()))
}

pub(crate) fn id_of(connection: &Connection, code: &str) -> Result<i64> {
    connection
        .query_row("SELECT id FROM integrations WHERE code = ?1", [code], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::UnknownIntegration(code.to_owned()))
}

fn check_work_type(connection: &Connection, name: Option<&str>) -> Result<()> {
    if let Some(name) = name {
        let exists: bool = connection.query_row(
            "SELECT EXISTS(SELECT 1 FROM work_types WHERE name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        if !exists {
            return Err(Error::UnknownWorkType(name.to_owned()));
        }
    }
    Ok(())
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

impl Store {
    /// Creates an integration. Its credentials go to the [`crate::SecretStore`] separately.
    pub fn create_integration(&self, mut new: NewIntegration) -> Result<Integration> {
        new.validate()?;
        self.write(|tx| {
            check_work_type(tx, new.default_work_type.as_deref())?;
            let exists: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM integrations WHERE code = ?1)", [&new.code], |row| row.get(0))?;
            if exists {
                return Err(Error::DuplicateIntegration(new.code.clone()));
            }
            tx.execute(
                "INSERT INTO integrations (code, name, type, mode, publish_to, username, base_url, service_extension,
                     auto_admin, default_work_type, default_assign_to, auto_relay, auto_import, check_in, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    new.code,
                    new.name,
                    IntegrationType::PruvanShare.as_str(),
                    new.mode.as_str(),
                    json(&new.publish_to),
                    new.username,
                    new.base_url,
                    new.service_extension,
                    new.auto_admin,
                    new.default_work_type,
                    new.default_assign_to.to_stored(),
                    new.auto_relay,
                    new.auto_import,
                    json(&new.check_in),
                    now(),
                ],
            )?;
            find(tx, &new.code)
        })
    }

    /// Applies an edit. The code cannot change: it is part of every project's id.
    pub fn edit_integration(&self, code: &str, edit: &IntegrationEdit) -> Result<Integration> {
        self.write(|tx| {
            let mut integration = find(tx, code)?;
            edit.apply_to(&mut integration)?;
            check_work_type(tx, integration.default_work_type.as_deref())?;
            tx.execute(
                "UPDATE integrations SET name = ?2, mode = ?3, publish_to = ?4, username = ?5, base_url = ?6,
                     service_extension = ?7, auto_admin = ?8, default_work_type = ?9, default_assign_to = ?10,
                     auto_relay = ?11, auto_import = ?12, check_in = ?13
                 WHERE code = ?1",
                params![
                    code,
                    integration.name,
                    integration.mode.as_str(),
                    json(&integration.publish_to),
                    integration.username,
                    integration.base_url,
                    integration.service_extension,
                    integration.auto_admin,
                    integration.default_work_type,
                    integration.default_assign_to.to_stored(),
                    integration.auto_relay,
                    integration.auto_import,
                    json(&integration.check_in),
                ],
            )?;
            Ok(integration)
        })
    }

    /// Every integration, by code.
    pub fn list_integrations(&self) -> Result<Vec<Integration>> {
        self.read(|connection| {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} FROM integrations ORDER BY code"))?;
            let rows = statement.query_map([], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// One integration.
    pub fn integration(&self, code: &str) -> Result<Integration> {
        self.read(|connection| find(connection, code))
    }

    /// Deletes an integration and its projects. Refused while it holds undelivered field work: the caller
    /// must export that work first (see [`Store::pending_outbox_entries`]) and pass `force`.
    pub fn delete_integration(&self, code: &str, force: bool) -> Result<()> {
        self.write(|tx| {
            let id = id_of(tx, code)?;
            let pending = crate::outbox::queue::integration_pending_count(tx, id)?;
            if pending > 0 && !force {
                return Err(Error::PendingFieldWork {
                    what: format!("integration {code}"),
                    count: pending,
                    hint: "deliver it with a sync, or delete with --force to export it to a file first"
                        .into(),
                });
            }
            tx.execute("DELETE FROM outbox WHERE integration_id = ?1", [id])?;
            tx.execute("DELETE FROM integrations WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Moves an integration's import status by `event`, recording the error message on failure and the
    /// time on success. Returns the new status.
    pub fn record_status(
        &self,
        code: &str,
        event: StatusEvent,
        error: Option<&str>,
    ) -> Result<IntegrationStatus> {
        self.write(|tx| transition(tx, code, event, error, now()))
    }

    /// Records whether the provider accepted the credentials (the time it did), or clears the mark.
    pub fn set_validated(&self, code: &str, at: Option<Timestamp>) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE integrations SET validated_at = ?2 WHERE code = ?1",
                params![code, at],
            )?;
            if changed == 0 {
                return Err(Error::UnknownIntegration(code.to_owned()));
            }
            Ok(())
        })
    }

    /// Marks every integration left `pending` or `running` by a process that stopped as failed, so that
    /// the app shows the truth after a crash. Call once when the app starts, before any import.
    pub fn recover_interrupted_imports(&self) -> Result<u64> {
        self.write(|tx| {
            let codes: Vec<String> = tx
                .prepare(&format!(
                    "SELECT code FROM integrations WHERE status IN ('{}', '{}')",
                    IntegrationStatus::Pending.as_str(),
                    IntegrationStatus::Running.as_str(),
                ))?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for code in &codes {
                transition(
                    tx,
                    code,
                    StatusEvent::Interrupted,
                    Some("interrupted: the app stopped during the import"),
                    now(),
                )?;
            }
            Ok(codes.len() as u64)
        })
    }
}

/// Applies a status event inside a transaction.
pub(crate) fn transition(
    connection: &Connection,
    code: &str,
    event: StatusEvent,
    error: Option<&str>,
    at: Timestamp,
) -> Result<IntegrationStatus> {
    let current: String = connection
        .query_row("SELECT status FROM integrations WHERE code = ?1", [code], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::UnknownIntegration(code.to_owned()))?;
    let current = IntegrationStatus::parse(&current)?;
    let next = next_status(current, event)
        .map_err(|err| crate::model::InvalidInput::new("status", err.to_string()))?;
    match event {
        StatusEvent::Succeeded => connection.execute(
            "UPDATE integrations SET status = ?2, last_refreshed = ?3, last_error = NULL WHERE code = ?1",
            params![code, next.as_str(), at],
        )?,
        StatusEvent::Failed | StatusEvent::Interrupted => connection.execute(
            "UPDATE integrations SET status = ?2, last_error = ?3 WHERE code = ?1",
            params![code, next.as_str(), error.unwrap_or("unknown error")],
        )?,
        // The error of an earlier run stays: a stopped run says nothing new about the provider.
        StatusEvent::Requested | StatusEvent::Started | StatusEvent::Stopped { .. } => connection.execute(
            "UPDATE integrations SET status = ?2 WHERE code = ?1",
            params![code, next.as_str()],
        )?,
    };
    Ok(next)
}

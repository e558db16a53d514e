//! Work types (Default Work Type templates), stored as their JSON definition.

use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use crate::model::{WorkType, now};
use crate::{Error, Result};

pub(crate) fn find(connection: &Connection, name: &str) -> Result<WorkType> {
    let definition: String = connection
        .query_row(
            "SELECT definition FROM work_types WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::UnknownWorkType(name.to_owned()))?;
    Ok(WorkType::from_json(name, &definition)?)
}

impl Store {
    /// Adds or replaces a work type.
    pub fn save_work_type(&self, work_type: &WorkType) -> Result<()> {
        work_type.validate()?;
        let definition = serde_json::to_string(work_type).expect("plain data serialises");
        self.write(|tx| {
            tx.execute(
                "INSERT INTO work_types (name, definition, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET definition = excluded.definition",
                params![work_type.name, definition, now()],
            )?;
            Ok(())
        })
    }

    /// Every work type, by name.
    pub fn list_work_types(&self) -> Result<Vec<WorkType>> {
        self.read(|connection| {
            let names: Vec<String> = connection
                .prepare("SELECT name FROM work_types ORDER BY name")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            names.iter().map(|name| find(connection, name)).collect()
        })
    }
}

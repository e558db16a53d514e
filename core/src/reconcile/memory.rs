//! An in-memory [`ProjectCache`]: the reference model the SQLite store is tested against.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use crate::model::Project;

use super::importer::ProjectCache;

/// Projects of one integration keyed by work-order number, plus the numbers with pending field work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryCache {
    /// The projects.
    pub projects: BTreeMap<String, Project>,
    /// Numbers of projects with field work not yet delivered.
    pub pending_work: BTreeSet<String>,
}

impl ProjectCache for MemoryCache {
    type Error = Infallible;

    fn get(&mut self, number: &str) -> Result<Option<Project>, Infallible> {
        Ok(self.projects.get(number).cloned())
    }

    fn put(&mut self, project: &Project, _existing: Option<&Project>) -> Result<(), Infallible> {
        self.projects
            .insert(project.work_order_number.clone(), project.clone());
        Ok(())
    }

    fn remove(&mut self, number: &str) -> Result<(), Infallible> {
        self.projects.remove(number);
        Ok(())
    }

    fn flag_removal_pending(&mut self, number: &str) -> Result<(), Infallible> {
        if let Some(project) = self.projects.get_mut(number) {
            project.removal_pending = true;
        }
        Ok(())
    }

    fn has_pending_work(&mut self, number: &str) -> Result<bool, Infallible> {
        Ok(self.pending_work.contains(number))
    }

    fn numbers(&mut self) -> Result<Vec<String>, Infallible> {
        Ok(self.projects.keys().cloned().collect())
    }
}

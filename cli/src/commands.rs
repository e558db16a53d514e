//! What each command does: parse the arguments into core types, call the core, print the result.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{Context, Result, bail};
use fieldsync_core::model::{
    DefaultAssignTo, ImportKind, IntegrationEdit, Mode, NewIntegration, ProjectEdit, ProjectId, ProjectQuery,
    ProjectSort, WorkType,
};
use fieldsync_core::secrets::{FileSecretStore, password_sha1};
use fieldsync_core::store::ImportOptions;
use fieldsync_core::{SecretKind, SecretStore, Store};

use crate::args::{
    Cli, Command, Credentials, IntegrationCommand, IntegrationSettings, ModeArg, ProjectCommand,
    ProjectsArgs, WorkTypeCommand,
};
use crate::output::{self, Printer};

/// Runs one command line.
pub fn run(cli: Cli) -> Result<()> {
    let printer = Printer { json: cli.json };
    let store =
        Store::open(&cli.db).with_context(|| format!("cannot open the cache {}", cli.db.display()))?;
    let secrets = FileSecretStore::beside(&cli.db);
    match cli.command {
        Command::Integration(command) => integration(&store, &secrets, &printer, command),
        Command::WorkType(command) => work_type(&store, &printer, command),
        Command::Import { code, file, full } => import(&store, &printer, &code, &file, full),
        Command::Projects(args) => projects(&store, &printer, args),
        Command::Project(command) => project(&store, &printer, command),
    }
}

fn mode(arg: ModeArg) -> Mode {
    match arg {
        ModeArg::Internal => Mode::Internal,
        ModeArg::External => Mode::External,
    }
}

/// The password from standard input or `$FIELDSYNC_PASSWORD`, never from argv.
fn read_password(credentials: &Credentials) -> Result<Option<String>> {
    if credentials.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            bail!("--password-stdin read an empty password");
        }
        return Ok(Some(password));
    }
    Ok(std::env::var("FIELDSYNC_PASSWORD")
        .ok()
        .filter(|password| !password.is_empty()))
}

fn save_credentials(
    secrets: &dyn SecretStore,
    code: &str,
    password: Option<&str>,
    token: Option<&str>,
) -> Result<()> {
    if let Some(password) = password {
        secrets.set(code, SecretKind::PasswordSha1, &password_sha1(password))?;
    }
    if let Some(token) = token {
        secrets.set(code, SecretKind::Token, token)?;
    }
    Ok(())
}

fn settings_edit(settings: IntegrationSettings) -> Result<IntegrationEdit> {
    Ok(IntegrationEdit {
        name: settings
            .name
            .map(|name| Some(name).filter(|name| !name.is_empty())),
        mode: settings.mode.map(mode),
        publish_to: (!settings.publish_to.is_empty()).then_some(settings.publish_to),
        auto_admin: settings.auto_admin.map(bool::from),
        default_work_type: settings
            .default_work_type
            .map(|name| Some(name).filter(|name| !name.is_empty() && name != "none")),
        default_assign_to: settings
            .default_assign_to
            .as_deref()
            .map(DefaultAssignTo::parse)
            .transpose()?,
        auto_relay: settings.auto_relay.map(bool::from),
        auto_import: settings.auto_import.map(bool::from),
        ..IntegrationEdit::default()
    })
}

fn integration(
    store: &Store,
    secrets: &dyn SecretStore,
    printer: &Printer,
    command: IntegrationCommand,
) -> Result<()> {
    match command {
        IntegrationCommand::Add {
            code,
            url,
            username,
            credentials,
            settings,
        } => {
            let password = read_password(&credentials)?
                .context("a password is required: pass --password-stdin or set FIELDSYNC_PASSWORD")?;
            let mut new = NewIntegration::new(&code, url, username);
            let edit = settings_edit(settings)?;
            new.name = edit.name.clone().flatten();
            new.mode = edit.mode.unwrap_or(new.mode);
            new.publish_to = edit.publish_to.clone().unwrap_or_default();
            new.auto_admin = edit.auto_admin.unwrap_or(new.auto_admin);
            new.default_work_type = edit.default_work_type.clone().flatten();
            new.default_assign_to = edit.default_assign_to.clone().unwrap_or_default();
            new.auto_relay = edit.auto_relay.unwrap_or(new.auto_relay);
            new.auto_import = edit.auto_import.unwrap_or(new.auto_import);
            let integration = store.create_integration(new)?;
            if let Err(err) = save_credentials(secrets, &code, Some(&password), credentials.token.as_deref())
            {
                // Never leave an integration whose credentials were not saved.
                store.delete_integration(&code, false)?;
                return Err(err.context("the integration was not created"));
            }
            printer.integration(&integration)
        }
        IntegrationCommand::List => printer.integrations(&store.list_integrations()?),
        IntegrationCommand::Show { code } => printer.integration(&store.integration(&code)?),
        IntegrationCommand::Edit {
            code,
            url,
            username,
            credentials,
            settings,
        } => {
            let password = read_password(&credentials)?;
            let mut edit = settings_edit(settings)?;
            edit.base_url = url;
            edit.username = username;
            let integration = store.edit_integration(&code, &edit)?;
            save_credentials(secrets, &code, password.as_deref(), credentials.token.as_deref())?;
            printer.integration(&integration)
        }
        IntegrationCommand::Delete { code, force } => {
            let pending = store.pending_outbox_entries(&code)?;
            if !pending.is_empty() && force {
                let export = export_path(store.path(), &code);
                std::fs::write(&export, serde_json::to_vec_pretty(&pending)?)
                    .with_context(|| format!("cannot export the pending work to {}", export.display()))?;
                eprintln!(
                    "exported {} undelivered item(s) to {}",
                    pending.len(),
                    export.display()
                );
            }
            store.delete_integration(&code, force)?;
            secrets.delete_all(&code)?;
            printer.message(&format!("deleted integration {code}"))
        }
    }
}

fn export_path(database: &Path, code: &str) -> std::path::PathBuf {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut name = database.as_os_str().to_owned();
    name.push(format!(".{code}-pending-{stamp}.json"));
    name.into()
}

fn work_type(store: &Store, printer: &Printer, command: WorkTypeCommand) -> Result<()> {
    match command {
        WorkTypeCommand::Add { name, file } => {
            let json =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let work_type = WorkType::from_json(&name, &json)?;
            store.save_work_type(&work_type)?;
            printer.message(&format!("saved work type {name}"))
        }
        WorkTypeCommand::List => printer.work_types(&store.list_work_types()?),
    }
}

fn import(store: &Store, printer: &Printer, code: &str, file: &Path, full: bool) -> Result<()> {
    let kind = if full {
        ImportKind::FullImport
    } else {
        ImportKind::Refresh
    };
    let size = std::fs::metadata(file)
        .map(|metadata| metadata.len())
        .unwrap_or(0);
    let bar = output::progress_bar(size, std::io::stderr().is_terminal());
    let progress = |bytes: u64| bar.set_position(bytes);
    let options = ImportOptions {
        progress: Some(&progress),
        ..ImportOptions::new(kind)
    };
    let result = store.import_file(code, file, &options);
    bar.finish_and_clear();
    printer.report(code, kind, &result?)
}

fn projects(store: &Store, printer: &Printer, args: ProjectsArgs) -> Result<()> {
    let query = ProjectQuery {
        integration: args.integration,
        client_status: args.client_status,
        status: args.status,
        search: args.search,
        include_closed: !args.open,
        sort: if args.by_number {
            ProjectSort::Number
        } else {
            ProjectSort::DueDate
        },
        limit: args.limit,
        offset: args.offset,
    };
    printer.projects(&store.list_projects(&query)?)
}

fn project(store: &Store, printer: &Printer, command: ProjectCommand) -> Result<()> {
    match command {
        ProjectCommand::Show { id } => printer.project(&store.project(&ProjectId::parse(&id)?)?),
        ProjectCommand::Edit {
            id,
            status,
            due_date,
            instructions,
        } => {
            let edit = ProjectEdit {
                status,
                due_date,
                instructions,
            };
            if edit.is_empty() {
                bail!("nothing to edit: pass --status, --due-date or --instructions");
            }
            printer.project(&store.edit_project(&ProjectId::parse(&id)?, &edit)?)
        }
        ProjectCommand::Close { id } => printer.project(&store.close_project(&ProjectId::parse(&id)?)?),
        ProjectCommand::Delete { id } => {
            store.delete_project(&ProjectId::parse(&id)?)?;
            printer.message(&format!("deleted project {id}"))
        }
    }
}

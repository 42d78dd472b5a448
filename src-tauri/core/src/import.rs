//! Importing a configuration file (issue 12, part 2): reading an export
//! ([`crate::portable::ProfileExport`], JSON or YAML) defensively, checking it strictly, and
//! planning what it would change. Writing the plan is `api::import` (one transaction).
//!
//! Reading, in order, each refusal with its own code and nothing changed:
//! 1. **Size**: at most [`MAX_IMPORT_BYTES`], checked before anything is parsed
//!    (`import_too_large`).
//! 2. **Text**: UTF-8; JSON when it starts with `{`, else YAML. Parsed into a bounded tree:
//!    at most [`MAX_DEPTH`] levels and [`MAX_VALUES`] values *as expanded*, so a YAML alias
//!    bomb stops at the budget, whatever its anchors do; duplicate keys refused
//!    (`import_unreadable`, also for truncated or malformed text).
//! 3. **Version**: `schemaVersion` newer than [`SCHEMA_VERSION`] or unknown is refused
//!    (`import_unsupported_version`); an older one goes through [`MIGRATIONS`] one step at a
//!    time.
//! 4. **Shape and values**: unknown fields, wrong types, the account model's own validation
//!    (`accounts::validate`, as for a new account, except that credentials may be missing)
//!    and the settings' validation; every problem reported with its path
//!    (`accounts[2].risk.maxQty`), all at once (`import_invalid`).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::accounts::catalog::broker_info;
use crate::accounts::diff::{self, FieldChange};
use crate::accounts::model::{Account, AccountInput, CredentialField, TradingMode};
use crate::accounts::validate::{self, Context, MAX_NAME_CHARS};
use crate::error::{Code, ErrorCode, FieldCode, FieldError};
use crate::portable::{
    credentials_aad, ExportFormat, ExportedAccount, ProfileExport, SealedCredentials, NOT_EXPORTED,
    SCHEMA_VERSION, SEALED,
};
use crate::seal::{PassKey, SealError};
use crate::secret::Secret;
use crate::settings::AppSettings;

/// The largest file an import reads (5 MiB).
pub const MAX_IMPORT_BYTES: u64 = 5 * 1024 * 1024;
/// The deepest nesting accepted (an export nests five levels at most).
pub const MAX_DEPTH: usize = 16;
/// The most values (scalars, lists, maps) a document may expand to.
pub const MAX_VALUES: usize = 200_000;
/// The most accounts one file may carry.
pub const MAX_ACCOUNTS: usize = 1_000;

/// Why a file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {0} bytes; an import reads at most {MAX_IMPORT_BYTES} bytes (5 MiB), so it was not read; nothing was changed")]
    TooLarge(u64),
    #[error("the file cannot be read as a configuration export: {0}; nothing was changed")]
    Unreadable(String),
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}; nothing was changed")]
    UnsupportedVersion(String),
    #[error("{} in the file already exist{}: {}; choose what to do with {} (skip, replace or rename); nothing was changed",
        plural(.0.len(), "account"), if .0.len() == 1 { "s" } else { "" }, .0.join(", "),
        if .0.len() == 1 { "it" } else { "them" })]
    Conflict(Vec<String>),
    #[error("the sealed credentials in the file cannot be opened: {0}; nothing was changed")]
    Damaged(String),
    #[error("the file carries sealed credentials: give the passphrase it was exported with; nothing was changed")]
    PassphraseRequired,
    #[error(
        "wrong passphrase: it does not open the credentials in this file; nothing was changed"
    )]
    WrongPassphrase,
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn summary(fields: &[FieldError]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .take(20)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    let more = fields.len().saturating_sub(shown.len());
    format!(
        "the file is not a valid configuration ({}): {}{}; nothing was changed",
        plural(fields.len(), "problem"),
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    )
}

impl ErrorCode for ImportError {
    fn code(&self) -> Code {
        match self {
            ImportError::TooLarge(_) => Code::ImportTooLarge,
            ImportError::Unreadable(_) => Code::ImportUnreadable,
            ImportError::Invalid(_) => Code::ImportInvalid,
            ImportError::UnsupportedVersion(_) => Code::ImportUnsupportedVersion,
            ImportError::Conflict(_) => Code::ImportConflict,
            ImportError::Damaged(_) => Code::ImportDamaged,
            ImportError::PassphraseRequired => Code::PassphraseRequired,
            ImportError::WrongPassphrase => Code::WrongPassphrase,
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            ImportError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 1–2. Bytes to a bounded tree.

/// Reads the file's bytes as a document: size, UTF-8, JSON or YAML, bounded.
pub fn read_tree(bytes: &[u8]) -> Result<(Value, ExportFormat), ImportError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(len));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ImportError::Unreadable(format!(
            "it is not UTF-8 text (an invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    read_text(text)
}

/// [`read_tree`] for text already decoded (the window sends text).
pub fn read_text(text: &str) -> Result<(Value, ExportFormat), ImportError> {
    let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if len > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(len));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ImportError::Unreadable("it is empty".into()));
    }
    let budget = Budget::default();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(text);
        let v = Node::root(&budget)
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| {
                let why = if e.is_eof() {
                    format!("it ends too early, as if truncated ({e})")
                } else {
                    format!("it is not valid JSON ({e})")
                };
                ImportError::Unreadable(budget.explain().unwrap_or(why))
            })?;
        Ok((v, ExportFormat::Json))
    } else {
        let de = serde_norway::Deserializer::from_str(text);
        let v = Node::root(&budget).deserialize(de).map_err(|e| {
            ImportError::Unreadable(
                budget
                    .explain()
                    .unwrap_or_else(|| format!("it is not valid YAML or JSON ({e})")),
            )
        })?;
        Ok((v, ExportFormat::Yaml))
    }
}

/// What the tree may still grow by, and why it stopped if it did.
#[derive(Default)]
struct Budget {
    values: Cell<usize>,
    stopped: Cell<Option<Stop>>,
}

#[derive(Clone, Copy)]
enum Stop {
    Deep,
    Many,
}

impl Budget {
    fn explain(&self) -> Option<String> {
        self.stopped.get().map(|s| match s {
            Stop::Deep => format!("it nests deeper than {MAX_DEPTH} levels"),
            Stop::Many => format!(
                "it expands to more than {MAX_VALUES} values (YAML anchors and aliases repeating \
                 a part many times?)"
            ),
        })
    }
}

/// Builds one value of the tree, counting it against the budget.
#[derive(Clone, Copy)]
struct Node<'b> {
    budget: &'b Budget,
    depth: usize,
}

impl<'b> Node<'b> {
    fn root(budget: &'b Budget) -> Self {
        Self { budget, depth: 0 }
    }

    fn child(self) -> Self {
        Self {
            budget: self.budget,
            depth: self.depth + 1,
        }
    }

    fn count<E: de::Error>(&self) -> Result<(), E> {
        let n = self.budget.values.get() + 1;
        self.budget.values.set(n);
        if n > MAX_VALUES {
            self.budget.stopped.set(Some(Stop::Many));
            return Err(E::custom("too many values"));
        }
        Ok(())
    }

    fn nest<E: de::Error>(&self) -> Result<(), E> {
        self.count()?;
        if self.depth >= MAX_DEPTH {
            self.budget.stopped.set(Some(Stop::Deep));
            return Err(E::custom("nested too deep"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.count()?;
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.nest()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.nest()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.count()?;
            let v = map.next_value_seed(self.child())?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

// ---------------------------------------------------------------------------------------
// 3. Versions.

/// One migration step: a document of version `n` (its index + 1) to version `n + 1`.
pub type Step = fn(Value) -> Result<Value, String>;

/// The steps from each older version to the next, in order: `MIGRATIONS[0]` takes version
/// 1 to 2, and so on. Version 1 is the only one so far, so there is none yet; a change of
/// the format adds a step here and bumps [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Step] = &[];

const _: () = assert!(MIGRATIONS.len() + 1 == SCHEMA_VERSION as usize);

/// Reads `schemaVersion` and brings the document to [`SCHEMA_VERSION`] one step at a time.
pub fn migrate(doc: Value) -> Result<Value, ImportError> {
    migrate_with(doc, MIGRATIONS)
}

/// [`migrate`] with the given steps (version `steps.len() + 1` is the current one).
pub fn migrate_with(mut doc: Value, steps: &[Step]) -> Result<Value, ImportError> {
    let current = steps.len() as u64 + 1;
    let Some(obj) = doc.as_object() else {
        return Err(ImportError::Invalid(vec![FieldError::new(
            ".",
            FieldCode::Invalid,
            "the document must be a map of fields (schemaVersion, accounts, settings, …)",
        )]));
    };
    let version = match obj.get("schemaVersion") {
        None => {
            return Err(ImportError::Invalid(vec![FieldError::new(
                "schemaVersion",
                FieldCode::Required,
                "missing: this does not look like a Brokerdesk configuration export",
            )]))
        }
        Some(v) => v.as_u64().ok_or_else(|| {
            ImportError::Invalid(vec![FieldError::new(
                "schemaVersion",
                FieldCode::Invalid,
                format!(
                    "must be a whole number, not {}",
                    crate::text::cap(&v.to_string(), 40)
                ),
            )])
        })?,
    };
    if version > current {
        return Err(ImportError::UnsupportedVersion(format!(
            "the file has schemaVersion {version}: it was written by a newer Brokerdesk, and this \
             one reads versions 1 to {current}; update Brokerdesk to import it"
        )));
    }
    if version == 0 {
        return Err(ImportError::UnsupportedVersion(
            "the file has schemaVersion 0, which no Brokerdesk writes".to_string(),
        ));
    }
    for (from, step) in steps.iter().enumerate().skip((version - 1) as usize) {
        let from = from as u64 + 1;
        doc = step(doc).map_err(|m| {
            ImportError::UnsupportedVersion(format!(
                "the file cannot be brought from schemaVersion {from} to {}: {m}",
                from + 1
            ))
        })?;
        if let Some(o) = doc.as_object_mut() {
            o.insert("schemaVersion".into(), Value::from(from + 1));
        }
    }
    Ok(doc)
}

// ---------------------------------------------------------------------------------------
// 4. Shape and values.

/// A checked document: the export and each account as an input (normalized as it would be
/// stored, no credential yet).
#[derive(Debug, Clone)]
pub struct Checked {
    pub doc: ProfileExport,
    pub format: ExportFormat,
    pub inputs: Vec<AccountInput>,
}

const ROOT_FIELDS: &[&str] = &[
    "schemaVersion",
    "appVersion",
    "exportedAt",
    "lineage",
    "serial",
    "settings",
    "accounts",
    "credentials",
];

/// Reads, migrates and checks a file's bytes; every problem at once.
pub fn check_bytes(bytes: &[u8]) -> Result<Checked, ImportError> {
    let (tree, format) = read_tree(bytes)?;
    check_tree(tree, format)
}

/// [`check_bytes`] for text.
pub fn check_text(text: &str) -> Result<Checked, ImportError> {
    let (tree, format) = read_text(text)?;
    check_tree(tree, format)
}

fn check_tree(tree: Value, format: ExportFormat) -> Result<Checked, ImportError> {
    let tree = migrate(tree)?;
    let Value::Object(mut root) = tree else {
        return Err(ImportError::Invalid(Vec::new()));
    };
    let mut errs = Vec::new();
    for key in root.keys() {
        if !ROOT_FIELDS.contains(&key.as_str()) {
            errs.push(unknown(key));
        }
    }
    let mut take = |key: &str| root.remove(key).unwrap_or(Value::Null);
    let schema_version = field::<u32>(take("schemaVersion"), "schemaVersion", &mut errs);
    let app_version = field::<String>(take("appVersion"), "appVersion", &mut errs);
    let exported_at = field::<String>(take("exportedAt"), "exportedAt", &mut errs);
    if let Some(t) = &exported_at {
        if chrono::DateTime::parse_from_rfc3339(t).is_err() {
            errs.push(FieldError::new(
                "exportedAt",
                FieldCode::Invalid,
                "must be an RFC 3339 time (2026-03-07T09:05:02Z)",
            ));
        }
    }
    let lineage = field::<String>(take("lineage"), "lineage", &mut errs);
    if lineage
        .as_ref()
        .is_some_and(|l| l.trim().is_empty() || l.len() > 128)
    {
        errs.push(FieldError::new(
            "lineage",
            FieldCode::Invalid,
            "must be the exporting profile's id (1 to 128 characters)",
        ));
    }
    let serial = field::<u64>(take("serial"), "serial", &mut errs);
    let settings_tree = take("settings");
    let settings = field::<AppSettings>(settings_tree.clone(), "settings", &mut errs);
    if let Some(s) = &settings {
        unknown_fields(&settings_tree, s, "settings", &mut errs);
        for e in s.validate() {
            errs.push(prefixed("settings", e));
        }
    }
    let sealed = match take("credentials") {
        Value::Null => None,
        v => field::<SealedCredentials>(v, "credentials", &mut errs),
    };
    let mut accounts = Vec::new();
    let mut inputs = Vec::new();
    match take("accounts") {
        Value::Array(list) if list.len() > MAX_ACCOUNTS => errs.push(FieldError::new(
            "accounts",
            FieldCode::TooMany,
            format!("at most {MAX_ACCOUNTS} accounts in one file"),
        )),
        Value::Array(list) => {
            let mut names = HashSet::new();
            for (i, tree) in list.into_iter().enumerate() {
                let path = format!("accounts[{i}]");
                let Some(a) = field::<ExportedAccount>(tree.clone(), &path, &mut errs) else {
                    continue;
                };
                unknown_fields(&tree, &a, &path, &mut errs);
                check_credential_marks(&a, &path, sealed.is_some(), &mut errs);
                let mut input = a.clone().into_input();
                if let Err(fields) = validate::validate(&mut input, &Context::Import) {
                    errs.extend(fields.into_iter().map(|e| prefixed(&path, e)));
                }
                if !input.name.is_empty() && !names.insert(input.name.to_lowercase()) {
                    errs.push(FieldError::new(
                        format!("{path}.name"),
                        FieldCode::Duplicate,
                        format!("another account in the file is also named {:?}", input.name),
                    ));
                }
                accounts.push(a);
                inputs.push(input);
            }
        }
        Value::Null => errs.push(FieldError::new(
            "accounts",
            FieldCode::Required,
            "missing (a list of accounts, possibly empty)",
        )),
        _ => errs.push(FieldError::new(
            "accounts",
            FieldCode::Invalid,
            "must be a list of accounts",
        )),
    }
    match (
        errs.is_empty(),
        schema_version,
        app_version,
        exported_at,
        lineage,
        serial,
        settings,
    ) {
        (
            true,
            Some(schema_version),
            Some(app_version),
            Some(exported_at),
            Some(lineage),
            Some(serial),
            Some(settings),
        ) => Ok(Checked {
            doc: ProfileExport {
                schema_version,
                app_version,
                exported_at,
                lineage,
                serial,
                settings,
                accounts,
                credentials: sealed,
            },
            format,
            inputs,
        }),
        _ => Err(ImportError::Invalid(errs)),
    }
}

fn unknown(path: &str) -> FieldError {
    FieldError::new(
        path,
        FieldCode::NotAllowed,
        "unknown field (this Brokerdesk does not know it; nothing in the file is ignored)",
    )
}

fn prefixed(prefix: &str, e: FieldError) -> FieldError {
    FieldError {
        field: format!("{prefix}.{}", e.field),
        ..e
    }
}

/// Reads one part of the document as `T`, or records why not (with the path inside it).
fn field<T: serde::de::DeserializeOwned>(
    v: Value,
    path: &str,
    errs: &mut Vec<FieldError>,
) -> Option<T> {
    if v.is_null() && !path.starts_with("credentials") {
        // Let an optional part say so itself; a required one reports "missing".
        if let Ok(t) = serde_json::from_value::<T>(Value::Null) {
            return Some(t);
        }
        errs.push(FieldError::new(path, FieldCode::Required, "missing"));
        return None;
    }
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let inner = e.path().to_string();
            let full = if inner == "." {
                path.to_string()
            } else {
                format!("{path}.{inner}")
            };
            // A credential's value (or the sealed block's) is never quoted back.
            let message = if full.contains("credentials") {
                "not the expected type or value (a credential field says \"not exported\" or \"sealed\"; values travel only in the sealed block)".to_string()
            } else {
                crate::text::cap(&e.into_inner().to_string(), 300)
            };
            errs.push(FieldError::new(full, FieldCode::Invalid, message));
            None
        }
    }
}

/// Records every key in `tree` that `parsed` (written back) does not have: a field this
/// version does not know, at any depth.
fn unknown_fields<T: Serialize>(tree: &Value, parsed: &T, path: &str, errs: &mut Vec<FieldError>) {
    let Ok(known) = serde_json::to_value(parsed) else {
        return;
    };
    walk_unknown(tree, &known, path, errs);
}

fn walk_unknown(tree: &Value, known: &Value, path: &str, errs: &mut Vec<FieldError>) {
    match (tree, known) {
        (Value::Object(t), Value::Object(k)) => {
            for (key, v) in t {
                let p = format!("{path}.{key}");
                match k.get(key) {
                    None => errs.push(unknown(&p)),
                    Some(kv) => walk_unknown(v, kv, &p, errs),
                }
            }
        }
        (Value::Array(t), Value::Array(k)) => {
            for (i, (v, kv)) in t.iter().zip(k).enumerate() {
                walk_unknown(v, kv, &format!("{path}[{i}]"), errs);
            }
        }
        _ => {}
    }
}

/// Each credential field must be one the broker uses, and say `not exported` or `sealed`
/// (with a sealed block to be in): a plain value is refused, never stored or echoed.
fn check_credential_marks(
    a: &ExportedAccount,
    path: &str,
    has_block: bool,
    errs: &mut Vec<FieldError>,
) {
    let info = broker_info(a.broker);
    for (field, mark) in &a.credentials {
        let p = format!("{path}.credentials.{field}");
        let known = info
            .credential_fields
            .iter()
            .any(|c| c.field.as_str() == field.as_str());
        if !known {
            errs.push(FieldError::new(
                &p,
                FieldCode::NotApplicable,
                format!("{} does not use this credential", info.label),
            ));
        } else if mark == SEALED {
            if !has_block {
                errs.push(FieldError::new(
                    &p,
                    FieldCode::Inconsistent,
                    "says \"sealed\" but the file has no sealed credentials block",
                ));
            }
        } else if mark != NOT_EXPORTED {
            errs.push(FieldError::new(
                &p,
                FieldCode::NotAllowed,
                "must say \"not exported\" or \"sealed\": credentials travel only sealed \
                 (export --with-credentials), and this value was not read",
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sealed credentials.

/// The credentials opened from a file's sealed block: account name (as exported) → values.
pub type Opened = BTreeMap<String, HashMap<CredentialField, Secret>>;

/// Opens the sealed block with `passphrase` (Argon2id: call from a blocking task). A wrong
/// passphrase is refused by the key check value before anything is decrypted.
pub fn open_sealed(doc: &ProfileExport, passphrase: &Secret) -> Result<Opened, ImportError> {
    let Some(block) = &doc.credentials else {
        return Ok(Opened::new());
    };
    let key = PassKey::open(passphrase, &block.key).map_err(seal_error)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(block.sealed.trim())
        .map_err(|_| ImportError::Damaged("credentials.sealed is not base64".into()))?;
    let plain = key
        .unseal(&credentials_aad(&doc.lineage, doc.serial), &bytes)
        .map_err(seal_error)?;
    let map: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_slice(&plain)
        .map_err(|_| ImportError::Damaged("its contents are not the expected map".into()))?;
    let mut out = Opened::new();
    for (name, fields) in map {
        let mut opened = HashMap::new();
        for (field, value) in fields {
            let f = CredentialField::ALL
                .iter()
                .copied()
                .find(|c| c.as_str() == field)
                .ok_or_else(|| {
                    ImportError::Damaged(format!("an unknown credential field {field:?}"))
                })?;
            opened.insert(f, Secret::new(value));
        }
        out.insert(name, opened);
    }
    Ok(out)
}

fn seal_error(e: SealError) -> ImportError {
    match e {
        SealError::WrongPassphrase => ImportError::WrongPassphrase,
        other => ImportError::Damaged(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Planning.

/// What to do with an account in the file whose name an existing account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum OnConflict {
    /// Leave the existing account as it is.
    Skip,
    /// Replace its configuration with the file's (it keeps its id, status and, unless the
    /// file brings new ones, its credentials).
    Replace,
    /// Add the file's as a new account, named "Name (imported)".
    Rename,
}

impl std::str::FromStr for OnConflict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "skip" => Ok(Self::Skip),
            "replace" => Ok(Self::Replace),
            "rename" => Ok(Self::Rename),
            _ => Err(format!(
                "unknown conflict handling {s:?} (skip, replace or rename)"
            )),
        }
    }
}

/// What an import does with one account of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AccountAction {
    /// A new account (no account has its name).
    Add,
    /// Replaces the existing account's configuration.
    Replace,
    /// A new account under another name (`storedAs`).
    Rename,
    /// Left as it is (conflict handling `skip`).
    Skip,
    /// The existing account already has this configuration: nothing to do.
    Unchanged,
    /// An account has this name and no conflict handling was chosen: the import is refused.
    Conflict,
}

/// One account of the file and what importing it does.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountPlan {
    /// Its name in the file.
    pub name: String,
    /// The name it is stored under (differs for `rename`).
    pub stored_as: String,
    pub action: AccountAction,
    /// The existing account with that name, if any.
    pub existing_id: Option<String>,
    /// Each setting that differs: added, changed, removed (for a new account, every one
    /// that has a value, as added).
    pub changes: Vec<FieldChange>,
    /// How many compared settings stay the same.
    pub unchanged: u32,
    /// The credential fields imported from the sealed block (stored unverified).
    pub credentials: Vec<CredentialField>,
    /// The credential fields its broker requires that it will lack (it cannot connect until
    /// they are entered).
    pub credentials_missing: Vec<CredentialField>,
    /// The protections replacing the existing configuration loosens (a step-up).
    pub loosens: Vec<String>,
    /// The account is live now and the import puts it in paper mode.
    pub to_paper: bool,
}

/// What the import does with the app settings.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SettingsPlan {
    pub changes: Vec<FieldChange>,
    pub unchanged: u32,
}

/// What importing a file does (a preview), or did (after applying).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportPreview {
    pub format: ExportFormat,
    pub schema_version: u32,
    pub app_version: String,
    pub exported_at: String,
    pub lineage: String,
    #[ts(type = "number")]
    pub serial: u64,
    /// The file carries sealed credentials.
    pub sealed_credentials: bool,
    /// They were opened with the passphrase given (else: not yet, and applying needs it).
    pub credentials_opened: bool,
    pub accounts: Vec<AccountPlan>,
    pub settings: SettingsPlan,
    /// Existing accounts the file does not name: left as they are.
    pub not_in_file: Vec<String>,
    /// Names in the file that existing accounts have, with a differing configuration.
    pub conflicts: Vec<String>,
    /// Why applying needs a fresh two-factor code (empty: it does not).
    pub step_up: Vec<String>,
    /// Whether applying changes anything.
    pub changes_anything: bool,
    /// Whether this is what was applied (else a preview: nothing changed).
    pub applied: bool,
}

/// One change the import writes.
#[derive(Debug, Clone)]
pub enum Write {
    Add {
        input: AccountInput,
    },
    Replace {
        current: Box<Account>,
        input: AccountInput,
    },
}

/// A preview and the writes that carry it out.
#[derive(Debug, Clone)]
pub struct Plan {
    pub preview: ImportPreview,
    pub writes: Vec<Write>,
    /// The new settings, if they differ.
    pub settings: Option<AppSettings>,
}

/// Settings of an exported account that are compared (credentials have their own line, the
/// status is the account's own and stays).
const NOT_COMPARED: &[&str] = &["credentials", "status"];

/// Plans the import of `checked` into a profile holding `existing` and `settings`, with the
/// sealed credentials `opened` (when they were), and `on_conflict` for names that exist.
pub fn plan(
    checked: &Checked,
    existing: &[Account],
    settings: &AppSettings,
    opened: Option<&Opened>,
    on_conflict: Option<OnConflict>,
) -> Result<Plan, ImportError> {
    let doc = &checked.doc;
    let mut taken: HashSet<String> = existing.iter().map(|a| a.name.to_lowercase()).collect();
    for i in &checked.inputs {
        taken.insert(i.name.to_lowercase());
    }
    let mut accounts = Vec::new();
    let mut writes = Vec::new();
    let mut conflicts = Vec::new();
    let mut errs = Vec::new();
    let mut needs_credentials_step_up = false;
    for (i, (exported, input)) in doc.accounts.iter().zip(&checked.inputs).enumerate() {
        let path = format!("accounts[{i}]");
        let mut input = input.clone();
        let info = broker_info(input.broker);
        // The credentials this account brings, from the sealed block.
        let marked: Vec<CredentialField> = exported
            .credentials
            .iter()
            .filter(|(_, m)| m.as_str() == SEALED)
            .filter_map(|(f, _)| {
                CredentialField::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == f)
            })
            .collect();
        if let Some(opened) = opened {
            if !marked.is_empty() {
                let Some(values) = opened.get(&exported.name) else {
                    errs.push(FieldError::new(
                        format!("{path}.credentials"),
                        FieldCode::Inconsistent,
                        format!(
                            "marked sealed, but the sealed block has no credentials for {:?} (was the account renamed in the file?)",
                            exported.name
                        ),
                    ));
                    continue;
                };
                for f in &marked {
                    let v = values.get(f).cloned();
                    match f {
                        CredentialField::ApiKey => input.credentials.api_key = v,
                        CredentialField::ApiSecret => input.credentials.api_secret = v,
                    }
                }
            }
        }
        let existing_match = existing
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&input.name));
        let after_value = |input: &AccountInput, base: Option<&Account>| -> Value {
            serde_json::to_value(ExportedAccount::of(&preview_account(input, base)))
                .unwrap_or(Value::Null)
        };
        let required_missing = |input: &AccountInput, stored: &[CredentialField]| {
            info.credential_fields
                .iter()
                .filter(|c| c.required)
                .map(|c| c.field)
                .filter(|f| input.credentials.get(*f).is_none() && !stored.contains(f))
                .collect::<Vec<_>>()
        };
        let new_plan = |input: &AccountInput, action: AccountAction| {
            let (changes, unchanged) =
                diff::field_changes(&Value::Null, &after_value(input, None), NOT_COMPARED);
            AccountPlan {
                name: exported.name.clone(),
                stored_as: input.name.clone(),
                action,
                existing_id: None,
                changes,
                unchanged,
                credentials: marked.clone(),
                credentials_missing: required_missing(input, &[]),
                loosens: Vec::new(),
                to_paper: false,
            }
        };
        let Some(current) = existing_match else {
            accounts.push(new_plan(&input, AccountAction::Add));
            writes.push(Write::Add { input });
            continue;
        };
        // A name that exists.
        let before = serde_json::to_value(ExportedAccount::of(current)).unwrap_or(Value::Null);
        let mut replaced = input.clone();
        replaced.status = current.status;
        replaced.status_reason = None;
        let (changes, unchanged) = diff::field_changes(
            &before,
            &after_value(&replaced, Some(current)),
            NOT_COMPARED,
        );
        let same = changes.is_empty() && marked.is_empty();
        let mut plan = AccountPlan {
            name: exported.name.clone(),
            stored_as: current.name.clone(),
            action: AccountAction::Unchanged,
            existing_id: Some(current.id.clone()),
            changes,
            unchanged,
            credentials: marked.clone(),
            credentials_missing: Vec::new(),
            loosens: Vec::new(),
            to_paper: false,
        };
        match on_conflict {
            _ if same && on_conflict != Some(OnConflict::Rename) => {}
            None => {
                plan.action = AccountAction::Conflict;
                conflicts.push(current.name.clone());
            }
            Some(OnConflict::Skip) => {
                plan.action = AccountAction::Skip;
                plan.changes.clear();
                plan.credentials.clear();
            }
            Some(OnConflict::Rename) => {
                let name = unique_name(&input.name, &taken);
                taken.insert(name.to_lowercase());
                let mut renamed = input.clone();
                renamed.name = name;
                let mut p = new_plan(&renamed, AccountAction::Rename);
                p.existing_id = Some(current.id.clone());
                accounts.push(p);
                writes.push(Write::Add { input: renamed });
                continue;
            }
            Some(OnConflict::Replace) => {
                if current.broker != replaced.broker {
                    errs.push(FieldError::new(
                        format!("{path}.broker"),
                        FieldCode::Immutable,
                        format!(
                            "the existing account {:?} is a {} account and cannot become {}: import it with rename instead",
                            current.name, current.broker, replaced.broker
                        ),
                    ));
                    continue;
                }
                let stored: Vec<CredentialField> =
                    current.credentials.iter().map(|c| c.field).collect();
                if current.environment != replaced.environment && !stored.is_empty() {
                    let missing: Vec<_> = stored
                        .iter()
                        .filter(|f| replaced.credentials.get(**f).is_none())
                        .collect();
                    if !missing.is_empty() {
                        errs.push(FieldError::new(
                            format!("{path}.environment"),
                            FieldCode::Inconsistent,
                            format!(
                                "the existing account {:?} has credentials for {}; they are never used for {}: import it with rename, or with its credentials",
                                current.name, current.environment, replaced.environment
                            ),
                        ));
                        continue;
                    }
                }
                let mut rules = replaced.prop_firm.clone();
                validate::fill_preset(&mut rules);
                plan.loosens = crate::risk::loosens(current, &replaced, &rules)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                plan.credentials_missing = required_missing(&replaced, &stored);
                plan.to_paper = current.mode == TradingMode::Live;
                plan.action = AccountAction::Replace;
                writes.push(Write::Replace {
                    current: Box::new(current.clone()),
                    input: replaced,
                });
            }
        }
        accounts.push(plan);
    }
    if !errs.is_empty() {
        return Err(ImportError::Invalid(errs));
    }
    for p in &accounts {
        if !p.credentials.is_empty()
            && matches!(
                p.action,
                AccountAction::Add | AccountAction::Rename | AccountAction::Replace
            )
        {
            needs_credentials_step_up = true;
        }
    }
    let mut step_up = Vec::new();
    if needs_credentials_step_up {
        step_up.push("it imports credentials".to_string());
    }
    for p in &accounts {
        if !p.loosens.is_empty() {
            step_up.push(format!(
                "it loosens {}'s protection ({})",
                p.stored_as,
                p.loosens.join(", ")
            ));
        }
    }
    let named: HashSet<String> = accounts
        .iter()
        .filter_map(|p| p.existing_id.clone())
        .collect();
    let not_in_file = existing
        .iter()
        .filter(|a| !named.contains(&a.id))
        .map(|a| a.name.clone())
        .collect();
    let (settings_changes, settings_unchanged) = diff::field_changes(
        &serde_json::to_value(settings).unwrap_or(Value::Null),
        &serde_json::to_value(&doc.settings).unwrap_or(Value::Null),
        &[],
    );
    let new_settings = (!settings_changes.is_empty()).then(|| doc.settings.clone());
    let changes_anything = !writes.is_empty() || new_settings.is_some();
    Ok(Plan {
        preview: ImportPreview {
            format: checked.format,
            schema_version: doc.schema_version,
            app_version: doc.app_version.clone(),
            exported_at: doc.exported_at.clone(),
            lineage: doc.lineage.clone(),
            serial: doc.serial,
            sealed_credentials: doc.credentials.is_some(),
            credentials_opened: opened.is_some() && doc.credentials.is_some(),
            accounts,
            settings: SettingsPlan {
                changes: settings_changes,
                unchanged: settings_unchanged,
            },
            not_in_file,
            conflicts,
            step_up,
            changes_anything,
            applied: false,
        },
        writes,
        settings: new_settings,
    })
}

/// `name (imported)`, else `name (imported 2)`, … — free among `taken` (lower-cased) and at
/// most the name length.
fn unique_name(name: &str, taken: &HashSet<String>) -> String {
    for n in 1..10_000u32 {
        let suffix = if n == 1 {
            " (imported)".to_string()
        } else {
            format!(" (imported {n})")
        };
        let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
        let base: String = name.chars().take(room).collect();
        let candidate = format!("{}{suffix}", base.trim_end());
        if !taken.contains(&candidate.to_lowercase()) {
            return candidate;
        }
    }
    format!(
        "{} ({})",
        name.chars().take(20).collect::<String>(),
        uuid::Uuid::new_v4()
    )
}

/// The account an input would make (on `base`, if it replaces one), for comparing.
fn preview_account(input: &AccountInput, base: Option<&Account>) -> Account {
    let mut prop_firm = input.prop_firm.clone();
    validate::fill_preset(&mut prop_firm);
    Account {
        id: base.map(|b| b.id.clone()).unwrap_or_default(),
        name: input.name.clone(),
        broker: input.broker,
        environment: input.environment,
        broker_account_id: input.broker_account_id.clone(),
        rest_url: input.rest_url.clone(),
        stream_url: input.stream_url.clone(),
        credentials: base.map(|b| b.credentials.clone()).unwrap_or_default(),
        prop_firm,
        risk: input.risk.clone(),
        instruments: input.instruments.clone(),
        timeframes: input.timeframes.clone(),
        trading_hours: input.trading_hours.clone(),
        weekend_trading: input.weekend_trading,
        notifications: input.notifications.clone(),
        status: input.status,
        status_history: Vec::new(),
        mode: TradingMode::Paper,
        tls_pin: None,
        created_at: String::new(),
        updated_at: String::new(),
        integrity: None,
    }
}

#[cfg(test)]
mod tests;

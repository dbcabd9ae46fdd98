//! The RDLA scene loader: runs MoonRay scene files (Lua 5.4) in a sandbox and returns the
//! [`SceneGraph`] they declare.
//!
//! Semantics follow scene_rdl2's `AsciiReader` and its `rdlalib`: several sources run in
//! order in one interpreter, so later files re-open and override what earlier ones declared;
//! any global naming a scene class is its constructor; `Class("name") { ... }` creates or
//! re-opens an object. The loader gives no meaning to classes or attributes: the scene
//! builder does that, and warns about what it does not support.
//!
//! Module map: `sandbox` builds the interpreter and its limits, `graph_builder` owns the graph
//! while scripts run, `values` is the Lua face of attribute values, `helpers` the `Rgb`/`Mat4`/
//! `rotate`/`bind`... globals, `classes` the known class names, `writer` the graph back as
//! RDLA text. A source holding RDLB (decided by content, see `rdlb::is_rdlb`) is decoded and
//! applied to the same graph in its turn, as `moonray -in a.rdla -in b.rdlb` does.

mod classes;
mod graph_builder;
mod helpers;
mod sandbox;
mod values;
mod writer;

#[cfg(test)]
mod tests;

use mlua::chunk::ChunkMode;

use crate::graph::{FileLoc, SceneGraph};
use graph_builder::{with_builder, AbortKind, GraphBuilder};

pub(crate) use classes::canonical_attr;
pub use writer::write;

/// One scene file's text and the name messages show for it (e.g. the path as given).
#[derive(Debug, Clone)]
pub struct SceneSource {
    pub name: String,
    pub text: Vec<u8>,
}

/// Limits and permissions for one load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// What `os.getenv` returns: these names with these values (the submitting user's, carried
    /// with the job so every worker sees the same); every other name reads as nil. The
    /// worker's own environment, which holds credentials, is never visible.
    pub env: Vec<(String, String)>,
    /// Lua heap plus the graph copied out of it, in bytes.
    pub memory_limit_bytes: usize,
    /// Lua VM instructions over all sources together.
    pub instruction_limit: u64,
    /// The frame being rendered: the global `frame` is set to it before any scene file runs,
    /// and `SceneVariables.frame` to the same value unless the scene sets it itself.
    pub frame: Option<i32>,
    /// As `moonray -rdla_set NAME VALUE`: `NAME = VALUE` runs in the interpreter, in order,
    /// after `frame` is set and before any scene file. `VALUE` is Lua, so a string needs quotes.
    pub rdla_set: Vec<(String, String)>,
    /// Lua `print` also writes `file:line: text` to stderr (the producer's user sees it).
    pub echo_print: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            env: Vec::new(),
            memory_limit_bytes: 512 * 1024 * 1024,
            instruction_limit: 2_000_000_000,
            frame: None,
            rdla_set: Vec::new(),
            echo_print: false,
        }
    }
}

/// Why a scene did not load. Every message is one line and starts with the file (and line,
/// when known) it is about.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{loc}: syntax error: {message}")]
    Syntax { loc: FileLoc, message: String },
    /// A runtime error in the script: an undefined global, a bad helper argument, a Lua error.
    #[error("{loc}: {message}")]
    Script { loc: FileLoc, message: String },
    #[error("{file}: precompiled Lua bytecode is not accepted; submit the scene's source text")]
    BinaryChunk { file: String },
    #[error("{loc}: the scene used more than {limit_bytes} bytes of memory; simplify it or raise the limit with `producer submit --lua-memory MIB`")]
    MemoryLimit { loc: FileLoc, limit_bytes: usize },
    #[error("{loc}: the scene ran more than {limit} Lua instructions (an endless loop?); simplify it or raise the limit with `producer submit --lua-instructions N`")]
    InstructionLimit { loc: FileLoc, limit: u64 },
    /// A malformed RDLB file, with the byte offset where it goes wrong.
    #[error("{file}: {error} (not a readable RDLB file: re-export or re-convert it)")]
    Binary {
        file: String,
        error: crate::rdlb::RdlbError,
    },
    #[error("could not set up the Lua interpreter: {0}")]
    Setup(String),
}

/// Runs `sources` in order in one interpreter and returns the scene they declare.
pub fn load(sources: &[SceneSource], opts: &LoadOptions) -> Result<SceneGraph, LoadError> {
    let lua = sandbox::new_interpreter(opts)?;
    // What the command line sets comes first, as chunks of their own, so an error in one is
    // reported against the flag that gave it.
    let mut preamble = Vec::new();
    if let Some(frame) = opts.frame {
        preamble.push(SceneSource {
            name: "frame".into(),
            text: format!("frame = {frame}").into_bytes(),
        });
    }
    for (name, value) in &opts.rdla_set {
        if !is_lua_name(name) {
            return Err(LoadError::Setup(format!(
                "rdla_set {name}: not a Lua variable name (letters, digits and _, not starting with a digit)"
            )));
        }
        preamble.push(SceneSource {
            name: format!("rdla_set {name}"),
            text: format!("{name} = {value}").into_bytes(),
        });
    }
    for source in preamble.iter().chain(sources) {
        // Lua's binary-chunk signature. Checked here for a clear message; the text-only
        // chunk mode below would refuse it anyway.
        if source.text.starts_with(b"\x1bLua") {
            return Err(LoadError::BinaryChunk {
                file: source.name.clone(),
            });
        }
        if crate::rdlb::is_rdlb(&source.text) {
            load_binary(&lua, source, opts)?;
            continue;
        }
        with_builder(&lua, |b| b.current_file = source.name.clone());
        let result = lua
            .load(&source.text[..])
            .set_name(format!("@{}", source.name))
            .set_mode(ChunkMode::Text)
            .exec();
        if let Err(error) = result {
            return Err(classify(&lua, &error, &source.name, sources, opts));
        }
    }
    let builder = lua
        .remove_app_data::<GraphBuilder>()
        .expect("the builder stays installed for the interpreter's lifetime");
    let mut graph = builder.graph;
    if let Some(frame) = opts.frame {
        graph
            .scene_variables
            .entry("frame".into())
            .or_insert(crate::graph::Value::Int(i64::from(frame)));
    }
    Ok(graph)
}

/// A Lua identifier that is not a keyword: what `NAME = VALUE` can assign.
pub fn is_lua_name(name: &str) -> bool {
    const KEYWORDS: [&str; 22] = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// Decodes an RDLB source and applies its records to the graph the scripts build.
fn load_binary(lua: &mlua::Lua, source: &SceneSource, opts: &LoadOptions) -> Result<(), LoadError> {
    let binary = |error| LoadError::Binary {
        file: source.name.clone(),
        error,
    };
    let used = with_builder(lua, |b| b.graph_bytes) + lua.used_memory();
    let limit = opts.memory_limit_bytes.saturating_sub(used);
    let (records, bytes) = crate::rdlb::decode(&source.text, limit).map_err(binary)?;
    with_builder(lua, |b| {
        b.charge_graph_bytes(bytes);
        crate::rdlb::apply(records, &source.name, b)
    })
    .map_err(binary)
}

impl crate::rdlb::Target for GraphBuilder {
    fn graph(&mut self) -> &mut SceneGraph {
        &mut self.graph
    }

    fn open(&mut self, class: &str, name: &str, loc: &FileLoc) -> crate::graph::ObjectId {
        let class = classes::canonical_class(class).unwrap_or(class);
        GraphBuilder::open(self, class, name, loc)
    }
}

/// Turns an interpreter error into a [`LoadError`] located at a file and line.
fn classify(
    lua: &mlua::Lua,
    error: &mlua::Error,
    current: &str,
    sources: &[SceneSource],
    opts: &LoadOptions,
) -> LoadError {
    // A limit, once hit, explains whatever error the script surfaced afterwards.
    if let Some((kind, loc)) = with_builder(lua, |b| b.abort.clone()) {
        return match kind {
            AbortKind::Instructions => LoadError::InstructionLimit {
                loc,
                limit: opts.instruction_limit,
            },
            AbortKind::Memory => LoadError::MemoryLimit {
                loc,
                limit_bytes: opts.memory_limit_bytes,
            },
        };
    }
    let mut inner = error;
    loop {
        match inner {
            mlua::Error::CallbackError { cause, .. } => inner = cause,
            mlua::Error::WithContext { cause, .. } => inner = cause,
            _ => break,
        }
    }
    let here = FileLoc {
        file: current.to_string(),
        line: 0,
    };
    match inner {
        mlua::Error::SyntaxError { message, .. } => {
            let (loc, message) =
                split_location(message, sources).unwrap_or((here, one_line(message)));
            LoadError::Syntax { loc, message }
        }
        mlua::Error::MemoryError(_) => LoadError::MemoryLimit {
            loc: here,
            limit_bytes: opts.memory_limit_bytes,
        },
        mlua::Error::RuntimeError(message) => {
            let message = message
                .split("\nstack traceback:")
                .next()
                .unwrap_or_default();
            let (loc, message) =
                split_location(message, sources).unwrap_or((here, one_line(message)));
            LoadError::Script { loc, message }
        }
        other => LoadError::Script {
            loc: here,
            message: one_line(&other.to_string()),
        },
    }
}

/// Splits "name:12: message" into its location and message. Lua shortens long chunk names
/// to "..." plus their tail; such a prefix is matched back to the full source name.
fn split_location(message: &str, sources: &[SceneSource]) -> Option<(FileLoc, String)> {
    let bytes = message.as_bytes();
    // The first ":<digits>: " after a non-empty prefix ends the location.
    let mut start = 1;
    while let Some(pos) = message.get(start..)?.find(':').map(|p| p + start) {
        let digits = bytes[pos + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let after = pos + 1 + digits;
        if digits > 0 && message[after..].starts_with(": ") {
            let prefix = &message[..pos];
            let line = message[pos + 1..after].parse().ok()?;
            let file = sources
                .iter()
                .map(|s| s.name.as_str())
                .find(|name| {
                    *name == prefix
                        || prefix
                            .strip_prefix("...")
                            .is_some_and(|tail| name.ends_with(tail))
                })
                .unwrap_or(prefix)
                .to_string();
            return Some((FileLoc { file, line }, one_line(&message[after + 2..])));
        }
        start = pos + 1;
    }
    None
}

/// Error messages are one line; Lua messages may carry newlines of their own.
fn one_line(text: &str) -> String {
    text.trim().replace('\n', " ")
}

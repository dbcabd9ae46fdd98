//! The interpreter RDLA runs in: which parts of Lua's standard library a scene may use, the
//! strict globals that turn class names into constructors, and the memory and instruction
//! limits.
//!
//! Workers hold credentials, so the sandbox is built by construction rather than by removal
//! where possible: only `base table string math utf8 coroutine` are opened (no `io`, `os`,
//! `package`, `debug`); `os` is a fresh table with `time`, `clock` and a `getenv` that sees
//! only the allowed variables; `dofile loadfile string.dump` are removed, `load` is text-only
//! and `collectgarbage` only collects or counts.

use std::collections::HashMap;

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value as LuaValue, VmState};

use super::classes::canonical_class;
use super::graph_builder::{
    caller_loc, open_object, script_error, with_builder, AbortKind, GraphBuilder, SceneVars,
};
use super::values::Rdl;
use super::{LoadError, LoadOptions};
use crate::graph::Value;

/// How often (in VM instructions) the count hook runs: rarely enough to cost nothing
/// measurable, often enough that an endless loop stops within microseconds of the limit.
const HOOK_INTERVAL: u32 = 1000;

/// Lua that wraps the error-catching functions so that a script cannot swallow a limit
/// error and keep running: once the loader has aborted, `pcall`, `xpcall` and
/// `coroutine.resume` re-raise whatever they caught. It receives the abort check as its
/// argument so the check is never a global a scene could replace.
const PRELUDE: &str = r#"
local aborted = ...
local raw_pcall, raw_xpcall, raw_resume = pcall, xpcall, coroutine.resume
local raw_load, raw_collectgarbage = load, collectgarbage
local pack, unpack, error, tostring = table.pack, table.unpack, error, tostring

local function checked(results)
    if aborted() then error(results[2], 0) end
    return unpack(results, 1, results.n)
end
pcall = function(...) return checked(pack(raw_pcall(...))) end
xpcall = function(...) return checked(pack(raw_xpcall(...))) end
coroutine.resume = function(...) return checked(pack(raw_resume(...))) end

-- Text chunks only: precompiled bytecode can crash the interpreter. The environment argument
-- is forwarded only when given, because an explicit nil would become the chunk's _ENV.
load = function(chunk, name, mode, ...) return raw_load(chunk, name, "t", ...) end

local allowed_gc = { collect = true, count = true, step = true, isrunning = true }
collectgarbage = function(option, ...)
    option = option or "collect"
    if not allowed_gc[option] then
        error("collectgarbage(\"" .. tostring(option) .. "\") is not available in scene files", 2)
    end
    return raw_collectgarbage(option, ...)
end

dofile, loadfile = nil, nil
string.dump = nil
"#;

/// Creates the interpreter with the helpers, constructors and limits installed and the
/// builder in its app data.
pub(crate) fn new_interpreter(opts: &LoadOptions) -> Result<Lua, LoadError> {
    let setup = |e: mlua::Error| LoadError::Setup(e.to_string());
    let libs = StdLib::TABLE
        | StdLib::STRING
        | StdLib::MATH
        | StdLib::UTF8
        | StdLib::COROUTINE
        | StdLib::OS;
    let lua = Lua::new_with(libs, LuaOptions::default()).map_err(setup)?;
    lua.set_app_data(GraphBuilder::new(opts.memory_limit_bytes));
    install(&lua, opts).map_err(setup)?;
    install_limits(&lua, opts).map_err(setup)?;
    Ok(lua)
}

fn install(lua: &Lua, opts: &LoadOptions) -> mlua::Result<()> {
    let globals = lua.globals();

    let aborted = lua.create_function(|lua, ()| Ok(with_builder(lua, |b| b.abort.is_some())))?;
    lua.load(PRELUDE)
        .set_name("=rdla prelude")
        .call::<()>(aborted)?;

    // `os` was opened only to borrow its clock functions; the rest of it is dropped.
    let real_os: Table = globals.get("os")?;
    let os = lua.create_table()?;
    os.set("time", real_os.get::<Function>("time")?)?;
    os.set("clock", real_os.get::<Function>("clock")?)?;
    let allowed: HashMap<String, String> = opts.env.iter().cloned().collect();
    let warned = std::cell::RefCell::new(std::collections::HashSet::new());
    os.set(
        "getenv",
        lua.create_function(move |lua, name: String| {
            if let Some(v) = allowed.get(&name) {
                return Ok(Some(v.clone()));
            }
            // Once per name: a loop reading it must not repeat the hint.
            if warned.borrow_mut().insert(name.clone()) {
                let loc = caller_loc(lua);
                with_builder(lua, |b| {
                    b.graph.warnings.push(format!(
                        "{loc}: os.getenv(\"{name}\") reads nil: the scene sees only the variables named with `--allow-env NAME`; add `--allow-env {name}` to let it read this one"
                    ))
                });
            }
            Ok(None)
        })?,
    )?;
    globals.set("os", os)?;

    // `print` goes to the log (or, for the producer's user, stderr) and `warn` to the graph's
    // warnings, never to stdout.
    let echo = opts.echo_print;
    globals.set(
        "print",
        lua.create_function(move |lua, args: mlua::Variadic<LuaValue>| {
            let text: Vec<String> = args
                .iter()
                .map(|v| v.to_string().unwrap_or_default())
                .collect();
            let line = format!("{}: {}", caller_loc(lua), text.join("\t"));
            if echo {
                eprintln!("{line}");
            } else {
                tracing::info!(target: "rdla", "{line}");
            }
            Ok(())
        })?,
    )?;
    globals.set(
        "warn",
        lua.create_function(|lua, args: mlua::Variadic<String>| {
            let loc = caller_loc(lua);
            with_builder(lua, |b| {
                b.graph.warnings.push(format!("{loc}: {}", args.concat()))
            });
            Ok(())
        })?,
    )?;

    super::helpers::install(lua, &globals)?;
    globals.set("SceneVariables", SceneVars)?;
    install_strict_globals(lua, &globals)
}

/// scene_rdl2's strict globals: reading a global that was never assigned is an error, except
/// that a known scene class name becomes its constructor on first use.
fn install_strict_globals(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let meta = lua.create_table()?;
    meta.set(
        "__index",
        lua.create_function(|lua, (globals, key): (Table, LuaValue)| {
            let LuaValue::String(name) = &key else { return Ok(LuaValue::Nil) };
            let name = name.to_string_lossy();
            if with_builder(lua, |b| b.declared.contains(&name)) {
                return Ok(LuaValue::Nil);
            }
            let Some(class) = canonical_class(&name) else {
                return Err(script_error(lua, format!("undefined global `{name}` (not a helper, a scene class, or a variable assigned earlier)")));
            };
            let ctor = constructor(lua, class, name.clone())?;
            globals.raw_set(name, ctor.clone())?;
            Ok(LuaValue::Function(ctor))
        })?,
    )?;
    meta.set(
        "__newindex",
        lua.create_function(|lua, (globals, key, value): (Table, LuaValue, LuaValue)| {
            if let LuaValue::String(name) = &key {
                let name = name.to_string_lossy();
                with_builder(lua, |b| b.declared.insert(name));
            }
            globals.raw_set(key, value)
        })?,
    )?;
    // A protected metatable: `setmetatable(_G, nil)` cannot switch the strictness off.
    meta.set("__metatable", false)?;
    globals.set_metatable(Some(meta))
}

/// The function a class name stands for: `Class("name")` creates or re-opens the object and
/// returns its reference, which can then be called with a table of attributes.
fn constructor(lua: &Lua, class: &'static str, called_as: String) -> mlua::Result<Function> {
    lua.create_function(move |lua, name: LuaValue| {
        let LuaValue::String(name) = &name else {
            return Err(script_error(
                lua,
                format!(
                    "bad argument #1 to '{called_as}' (string expected, got {})",
                    name.type_name()
                ),
            ));
        };
        let id = open_object(lua, class, &name.to_string_lossy())?;
        Ok(Rdl(Value::Object(id)))
    })
}

/// Installs the memory limit and the instruction-count hook. The hook is global so that
/// coroutines, which inherit the hook of the thread that creates them, are counted too.
fn install_limits(lua: &Lua, opts: &LoadOptions) -> mlua::Result<()> {
    let limit = opts.instruction_limit;
    let counted = std::cell::Cell::new(0u64);
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_INTERVAL),
        move |lua, debug| {
            counted.set(counted.get().saturating_add(u64::from(HOOK_INTERVAL)));
            let already = with_builder(lua, |b| b.abort.is_some());
            if counted.get() <= limit && !already {
                return Ok(VmState::Continue);
            }
            if !already {
                let source = debug.source();
                let file = source
                    .source
                    .as_deref()
                    .and_then(|s| s.strip_prefix('@'))
                    .map(str::to_string);
                let line = debug.current_line().unwrap_or(0) as u32;
                with_builder(lua, |b| {
                    let file = file.unwrap_or_else(|| b.current_file.clone());
                    b.abort = Some((
                        AbortKind::Instructions,
                        crate::graph::FileLoc { file, line },
                    ));
                });
            }
            Err(mlua::Error::RuntimeError(
                "instruction limit exceeded".to_string(),
            ))
        },
    )?;
    lua.set_memory_limit(opts.memory_limit_bytes)?;
    Ok(())
}

//! The loader's side of the scene while Lua runs: the [`GraphBuilder`] that owns the growing
//! [`SceneGraph`], object creation and re-opening, applying `{ ... }` tables, and the
//! file:line bookkeeping every message needs.
//!
//! The builder lives in the interpreter's app data so that constructors, metamethods and
//! helpers (all `'static` callbacks) reach the same state. It is borrowed only for short,
//! Lua-free sections: values are converted from Lua first, then the builder is updated.

use std::collections::{HashMap, HashSet};

use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};

use super::classes::{canonical_attr, is_set_class, resolve_enum};
use super::values::{from_lua, kind_name, to_lua, Budget, Rdl};
use crate::graph::{FileLoc, Object, ObjectId, SceneGraph, Value};

/// Why the loader stopped a script that could otherwise catch the error with `pcall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbortKind {
    Instructions,
    Memory,
}

/// Everything the loader accumulates while the sources run.
pub(crate) struct GraphBuilder {
    pub graph: SceneGraph,
    /// Objects by (canonical class, name): re-opening finds the same object.
    index: HashMap<(String, String), ObjectId>,
    /// The first object declared under each name, to warn when a name is reused with
    /// another class (MoonRay names are unique across classes).
    by_name: HashMap<String, ObjectId>,
    /// Globals assigned at least once, even to nil (`x = os.getenv("UNSET")`): reading them
    /// later is not an "undefined global" error, as in scene_rdl2's strict globals.
    pub declared: HashSet<String>,
    /// Approximate bytes held by `graph`, counted against the memory limit with Lua's heap.
    pub graph_bytes: usize,
    pub memory_limit: usize,
    /// The source being run, for messages that have no Lua frame to point at.
    pub current_file: String,
    /// Set once a limit is hit; from then on the script cannot continue (see sandbox).
    pub abort: Option<(AbortKind, FileLoc)>,
    /// (class, attribute) pairs already warned about as not MoonRay's: one warning each.
    warned_attrs: HashSet<(String, String)>,
}

impl GraphBuilder {
    pub(crate) fn new(memory_limit: usize) -> Self {
        GraphBuilder {
            graph: SceneGraph::default(),
            index: HashMap::new(),
            by_name: HashMap::new(),
            declared: HashSet::new(),
            graph_bytes: 0,
            memory_limit,
            current_file: String::new(),
            abort: None,
            warned_attrs: HashSet::new(),
        }
    }

    pub(crate) fn charge_graph_bytes(&mut self, bytes: usize) {
        self.graph_bytes = self.graph_bytes.saturating_add(bytes);
    }

    fn warn(&mut self, loc: &FileLoc, message: impl std::fmt::Display) {
        self.graph.warnings.push(format!("{loc}: {message}"));
    }

    /// Warns, once per class and name, that `class` has no attribute `name` in MoonRay. The
    /// value is still recorded; nothing in MoonRay would read it.
    fn warn_unknown_attr(&mut self, loc: &FileLoc, target: Target, name: &str, given: &str) {
        let class = self.class_of(target);
        let object = match target {
            Target::Object(id) => format!(" `{}`", self.graph.objects[id].name),
            Target::SceneVariables => String::new(),
        };
        if self.warned_attrs.insert((class.clone(), name.to_string())) {
            self.warn(
                loc,
                format!("{class}{object}: unknown attribute `{given}` ignored (MoonRay's {class} has no attribute of that name; later uses on this class are not reported)"),
            );
        }
    }

    fn class_of(&self, target: Target) -> String {
        match target {
            Target::Object(id) => self.graph.objects[id].class.clone(),
            Target::SceneVariables => "SceneVariables".to_string(),
        }
    }
}

/// Runs `f` with the builder borrowed. Callers never call back into Lua inside `f`.
pub(crate) fn with_builder<T>(lua: &Lua, f: impl FnOnce(&mut GraphBuilder) -> T) -> T {
    let mut builder = lua
        .app_data_mut::<GraphBuilder>()
        .expect("the RDLA builder is installed before any script runs and never borrowed twice");
    f(&mut builder)
}

/// The file:line of the innermost Lua code on the stack: the statement that called the
/// helper or constructor now running. Chunks are named "@<source name>", so the full name
/// comes back untruncated.
pub(crate) fn caller_loc(lua: &Lua) -> FileLoc {
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            if source.what == "C" {
                return None;
            }
            let file = match source.source.as_deref().and_then(|s| s.strip_prefix('@')) {
                Some(name) => name.to_string(),
                None => source.short_src.as_deref().unwrap_or("?").to_string(),
            };
            let line = debug.current_line().unwrap_or(0) as u32;
            Some(FileLoc { file, line })
        });
        match frame {
            None => break,
            Some(None) => continue,
            Some(Some(loc)) => return loc,
        }
    }
    FileLoc {
        file: with_builder(lua, |b| b.current_file.clone()),
        line: 0,
    }
}

/// A script error located at the calling statement: "scene.rdla:12: <message>".
pub(crate) fn script_error(lua: &Lua, message: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}: {message}", caller_loc(lua)))
}

/// Records a memory-limit abort and returns the error that unwinds the script.
pub(crate) fn abort_memory(lua: &Lua) -> mlua::Error {
    let loc = caller_loc(lua);
    with_builder(lua, |b| {
        b.abort
            .get_or_insert((AbortKind::Memory, loc.clone()))
            .clone()
    });
    mlua::Error::RuntimeError(format!("{loc}: memory limit exceeded"))
}

/// Where a `{ ... }` table or an attribute access applies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Object(ObjectId),
    SceneVariables,
}

/// Creates the object `class("name")` or finds the one already declared, and returns its id.
pub(crate) fn open_object(lua: &Lua, class: &str, name: &str) -> mlua::Result<ObjectId> {
    let loc = caller_loc(lua);
    let id = with_builder(lua, |b| b.open(class, name, &loc));
    Budget::new().commit(lua)?;
    Ok(id)
}

impl GraphBuilder {
    /// The object `class("name")`, created at `loc` when it is new; what both a constructor
    /// call and an RDLB record do.
    pub(crate) fn open(&mut self, class: &str, name: &str, loc: &FileLoc) -> ObjectId {
        let key = (class.to_string(), name.to_string());
        if let Some(&id) = self.index.get(&key) {
            return id;
        }
        if let Some(&other) = self.by_name.get(name) {
            let first = self.graph.object(other);
            let message = format!(
                "`{name}` was declared as {} at {}; declaring it again as {class} makes a second object",
                first.class, first.loc
            );
            self.warn(loc, message);
        }
        let id = self.graph.objects.len();
        self.graph.objects.push(Object {
            class: class.to_string(),
            name: name.to_string(),
            attrs: Default::default(),
            members: Vec::new(),
            loc: loc.clone(),
        });
        self.index.insert(key, id);
        self.by_name.entry(name.to_string()).or_insert(id);
        self.charge_graph_bytes(std::mem::size_of::<Object>() + 2 * name.len() + class.len());
        id
    }
}

/// Applies a `{ ["attr"] = value, member, ... }` table to an object or the scene variables.
/// String keys are attributes (legacy spaced names mapped); the array part lists members of
/// sets and rows of a `Layer`. Anything else is a warning, as MoonRay treats unknown
/// attributes: the scene still loads.
pub(crate) fn apply(lua: &Lua, target: Target, arg: LuaValue) -> mlua::Result<()> {
    let table = match arg {
        LuaValue::Nil => return Ok(()),
        LuaValue::Table(t) => t,
        other => {
            return Err(script_error(
                lua,
                format!("expected a table of attributes, got a {}", describe(&other)),
            ))
        }
    };
    let loc = caller_loc(lua);
    let mut budget = Budget::new();
    let mut warnings = Vec::new();
    let class = with_builder(lua, |b| b.class_of(target));
    let mut unknown = Vec::new();

    let len = table.raw_len();
    let mut members = Vec::with_capacity(len.min(1 << 16));
    for i in 1..=len {
        let item: LuaValue = table.raw_get(i)?;
        members.push(from_lua(lua, &item, &mut budget)?);
    }

    // Collect string keys, then sort them: Lua's hash order is not stable between runs, and
    // when "node xform" and "node_xform" both appear the canonical spelling must win every
    // time rather than whichever the hash visits last.
    let mut attrs: Vec<(String, String, LuaValue)> = Vec::new();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let (key, value) = pair?;
        match &key {
            LuaValue::String(s) => {
                let original = s.to_string_lossy();
                let (canonical, known) = canonical_attr(&class, &original);
                if !known {
                    unknown.push((canonical.clone(), original.clone()));
                }
                attrs.push((canonical, original, value));
            }
            LuaValue::Integer(i) if *i >= 1 && (*i as usize) <= len => {}
            other => warnings.push(format!(
                "ignoring attribute key {} (attribute names are strings)",
                describe(other)
            )),
        }
    }
    attrs.sort_by(|a, b| (&a.0, a.0 == a.1).cmp(&(&b.0, b.0 == b.1)));
    let mut converted: Vec<(String, Value)> = Vec::with_capacity(attrs.len());
    for (canonical, original, value) in &attrs {
        if let Some(last) = converted.last() {
            if &last.0 == canonical {
                warnings.push(format!(
                    "`{original}` and `{canonical}` name the same attribute; `{canonical}` wins"
                ));
            }
        }
        budget.charge(lua, canonical.len())?;
        let value = from_lua(lua, value, &mut budget)?;
        match resolve_enum(&class, canonical, value) {
            Ok(v) => converted.push((canonical.clone(), v)),
            Err(message) => warnings.push(message),
        }
    }
    budget.commit(lua)?;

    with_builder(lua, |b| {
        let (class, attrs_map, member_list) = match target {
            Target::Object(id) => {
                let o = &mut b.graph.objects[id];
                (o.class.clone(), &mut o.attrs, Some(&mut o.members))
            }
            Target::SceneVariables => (
                "SceneVariables".to_string(),
                &mut b.graph.scene_variables,
                None,
            ),
        };
        for (name, value) in converted {
            attrs_map.insert(name, value);
        }
        match member_list {
            Some(list) if is_set_class(&class) => add_members(&class, list, members, &mut warnings),
            _ if !members.is_empty() => warnings.push(format!(
                "ignoring {} array entries: {class} is not a set (write [\"name\"] = value)",
                members.len()
            )),
            _ => {}
        }
        for w in warnings {
            b.warn(&loc, w);
        }
        for (name, given) in unknown {
            b.warn_unknown_attr(&loc, target, &name, &given);
        }
    });
    Ok(())
}

/// Appends members to a set or layer. Sets keep set semantics (an object is listed once, as
/// scene_rdl2's sets ignore duplicates); a `Layer` keeps every row, verbatim, in order.
fn add_members(
    class: &str,
    list: &mut Vec<Value>,
    members: Vec<Value>,
    warnings: &mut Vec<String>,
) {
    for (i, member) in members.into_iter().enumerate() {
        match (class, &member) {
            ("Layer", Value::List(_)) => list.push(member),
            ("Layer", other) => warnings.push(format!(
                "Layer entry {} is a {}, not a {{geometry, part, material, lightset, ...}} row; ignored",
                i + 1,
                kind_name(other)
            )),
            (_, Value::Object(_)) => {
                if !list.contains(&member) {
                    list.push(member)
                }
            }
            (_, Value::Undef) => {}
            (_, other) => warnings.push(format!(
                "{class} entry {} is a {}, not a scene object; ignored",
                i + 1,
                kind_name(other)
            )),
        }
    }
}

/// The canonical name `key` stands for on `target`'s class, warning once if MoonRay's class
/// has no such attribute.
fn attr_name(lua: &Lua, target: Target, key: &LuaValue) -> mlua::Result<String> {
    match key {
        LuaValue::String(s) => {
            let given = s.to_string_lossy();
            let class = with_builder(lua, |b| b.class_of(target));
            let (name, known) = canonical_attr(&class, &given);
            if !known {
                let loc = caller_loc(lua);
                with_builder(lua, |b| b.warn_unknown_attr(&loc, target, &name, &given));
            }
            Ok(name)
        }
        other => Err(script_error(
            lua,
            format!("attribute names are strings, not {}", describe(other)),
        )),
    }
}

/// `obj["attr"]`: the attribute's current value, or nil when unset.
pub(crate) fn get_attr(lua: &Lua, target: Target, key: &LuaValue) -> mlua::Result<LuaValue> {
    let name = attr_name(lua, target, key)?;
    let value = with_builder(lua, |b| match target {
        Target::Object(id) => b.graph.objects[id].attrs.get(&name).cloned(),
        Target::SceneVariables => b.graph.scene_variables.get(&name).cloned(),
    });
    match value {
        Some(v) => to_lua(lua, &v),
        None => Ok(LuaValue::Nil),
    }
}

/// `obj["attr"] = value`.
pub(crate) fn set_attr(
    lua: &Lua,
    target: Target,
    key: &LuaValue,
    value: &LuaValue,
) -> mlua::Result<()> {
    let name = attr_name(lua, target, key)?;
    let mut budget = Budget::new();
    let value = from_lua(lua, value, &mut budget)?;
    budget.commit(lua)?;
    let class = with_builder(lua, |b| b.class_of(target));
    let value = match resolve_enum(&class, &name, value) {
        Ok(v) => v,
        Err(message) => {
            let loc = caller_loc(lua);
            with_builder(lua, |b| b.warn(&loc, message));
            return Ok(());
        }
    };
    with_builder(lua, |b| {
        let map = match target {
            Target::Object(id) => &mut b.graph.objects[id].attrs,
            Target::SceneVariables => &mut b.graph.scene_variables,
        };
        map.insert(name, value);
    });
    Ok(())
}

fn describe(value: &LuaValue) -> String {
    match value {
        LuaValue::UserData(ud) => match ud.borrow::<Rdl>() {
            Ok(r) => kind_name(&r.0).to_string(),
            Err(_) => "userdata".to_string(),
        },
        LuaValue::Integer(i) => format!("number {i}"),
        LuaValue::Number(f) => format!("number {f}"),
        other => other.type_name().to_string(),
    }
}

/// The `SceneVariables` global: called with a table, or indexed like an object.
pub(crate) struct SceneVars;

impl UserData for SceneVars {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Call, |lua, _, arg: LuaValue| {
            apply(lua, Target::SceneVariables, arg)?;
            lua.create_userdata(SceneVars)
        });
        methods.add_meta_method(MetaMethod::Index, |lua, _, key: LuaValue| {
            get_attr(lua, Target::SceneVariables, &key)
        });
        methods.add_meta_method(
            MetaMethod::NewIndex,
            |lua, _, (key, value): (LuaValue, LuaValue)| {
                set_attr(lua, Target::SceneVariables, &key, &value)
            },
        );
        methods.add_meta_method(MetaMethod::ToString, |_, _, ()| Ok("SceneVariables"));
    }
}

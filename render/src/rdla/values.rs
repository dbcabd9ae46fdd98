//! The Lua face of RDLA values: the `Rdl` userdata that carries a [`Value`] (colours, vectors,
//! matrices, object references, `bind`, `undef`) and the conversions between Lua values and
//! graph values.
//!
//! One userdata type for all helper results keeps conversion trivial: whatever a helper built
//! is already the graph value. Arithmetic follows scene_rdl2's metatables: `Rgb` and `Vec2..4`
//! support `+ - * /` and unary minus, `Mat4` supports `*` only, `Rgba` none.

use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};

use super::graph_builder::{script_error, with_builder};
use crate::graph::Value;

/// Tables nested deeper than this are rejected; it also stops a table that contains itself.
const MAX_TABLE_DEPTH: usize = 32;

/// A helper's result living inside Lua.
#[derive(Debug, Clone)]
pub(crate) struct Rdl(pub Value);

/// Wraps a graph value for Lua: scalars become Lua scalars, lists become tables, the rest
/// become `Rdl` userdata. Used when a scene reads an attribute back (`obj["radius"]`).
pub(crate) fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Int(i) => LuaValue::Integer(*i),
        Value::Float(f) => LuaValue::Number(*f),
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::List(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for item in items {
                table.raw_push(to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
        other => LuaValue::UserData(lua.create_userdata(Rdl(other.clone()))?),
    })
}

/// Converts a Lua value into a graph value: integers stay `Int`, other numbers are `Float`,
/// sequences become `List` (nil holes become `Undef`), helper userdata yield their value.
/// Functions, threads and foreign userdata are errors. `budget` counts the bytes the result
/// will occupy so that a scene cannot exhaust the worker's memory on the Rust side.
pub(crate) fn from_lua(lua: &Lua, value: &LuaValue, budget: &mut Budget) -> mlua::Result<Value> {
    convert(lua, value, budget, 0)
}

fn convert(lua: &Lua, value: &LuaValue, budget: &mut Budget, depth: usize) -> mlua::Result<Value> {
    budget.charge(lua, std::mem::size_of::<Value>())?;
    Ok(match value {
        LuaValue::Nil => Value::Undef,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::Int(*i),
        LuaValue::Number(f) => Value::Float(*f),
        LuaValue::String(s) => {
            budget.charge(lua, s.as_bytes().len())?;
            Value::String(s.to_string_lossy())
        }
        LuaValue::UserData(ud) => match ud.borrow::<Rdl>() {
            Ok(rdl) => rdl.0.clone(),
            Err(_) => return Err(script_error(lua, "this value cannot be an attribute value")),
        },
        LuaValue::Table(table) => {
            if depth >= MAX_TABLE_DEPTH {
                return Err(script_error(
                    lua,
                    format!("tables nest more than {MAX_TABLE_DEPTH} deep (a table that contains itself?)"),
                ));
            }
            let len = table.raw_len();
            let mut items = Vec::with_capacity(len.min(1 << 16));
            for i in 1..=len {
                let item: LuaValue = table.raw_get(i)?;
                items.push(convert(lua, &item, budget, depth + 1)?);
            }
            Value::List(items)
        }
        other => {
            return Err(script_error(
                lua,
                format!("a {} cannot be an attribute value", other.type_name()),
            ))
        }
    })
}

/// Rust-side memory accounting for values copied out of Lua. The Lua heap has its own limit
/// (`Lua::set_memory_limit`); the graph lives outside it, so the two are summed here.
pub(crate) struct Budget {
    pending: usize,
}

impl Budget {
    pub(crate) fn new() -> Self {
        Budget { pending: 0 }
    }

    /// Adds `bytes`; every 64 KiB the running total is checked against the limit.
    pub(crate) fn charge(&mut self, lua: &Lua, bytes: usize) -> mlua::Result<()> {
        self.pending += bytes;
        if self.pending >= 64 * 1024 {
            self.commit(lua)?;
        }
        Ok(())
    }

    /// Moves the pending bytes into the builder's total and fails past the memory limit.
    pub(crate) fn commit(&mut self, lua: &Lua) -> mlua::Result<()> {
        let bytes = std::mem::take(&mut self.pending);
        with_builder(lua, |b| b.charge_graph_bytes(bytes));
        let over = with_builder(lua, |b| b.graph_bytes + lua.used_memory() > b.memory_limit);
        if over {
            return Err(super::graph_builder::abort_memory(lua));
        }
        Ok(())
    }
}

/// The component names `v.x` / `c.r` address, by value kind.
fn component_index(value: &Value, key: &str) -> Option<usize> {
    let names: &[&str] = match value {
        Value::Rgb(_) | Value::Rgba(_) => &["r", "g", "b", "a"],
        Value::Vec2(_) | Value::Vec3(_) | Value::Vec4(_) => &["x", "y", "z", "w"],
        _ => return None,
    };
    let i = names.iter().position(|n| *n == key)?;
    (i < components(value)?.len()).then_some(i)
}

fn components(value: &Value) -> Option<&[f64]> {
    match value {
        Value::Rgb(c) | Value::Vec3(c) => Some(c),
        Value::Rgba(c) | Value::Vec4(c) => Some(c),
        Value::Vec2(c) => Some(c),
        _ => None,
    }
}

fn components_mut(value: &mut Value) -> Option<&mut [f64]> {
    match value {
        Value::Rgb(c) | Value::Vec3(c) => Some(c),
        Value::Rgba(c) | Value::Vec4(c) => Some(c),
        Value::Vec2(c) => Some(c),
        _ => None,
    }
}

/// Whether scene_rdl2 gives this kind arithmetic (`Rgba` has none).
fn has_arithmetic(value: &Value) -> bool {
    matches!(
        value,
        Value::Rgb(_) | Value::Vec2(_) | Value::Vec3(_) | Value::Vec4(_)
    )
}

/// Row-vector matrix product: `a * b` applies `a` first, then `b`.
pub(crate) fn mat_mul(a: &[f64; 16], b: &[f64; 16]) -> [f64; 16] {
    let mut out = [0.0; 16];
    for row in 0..4 {
        for col in 0..4 {
            out[row * 4 + col] = (0..4).map(|k| a[row * 4 + k] * b[k * 4 + col]).sum();
        }
    }
    out
}

/// An arithmetic operand: a helper value or a plain number.
enum Operand {
    Val(Value),
    Num(f64),
}

fn operand(value: &LuaValue) -> Option<Operand> {
    match value {
        LuaValue::Integer(i) => Some(Operand::Num(*i as f64)),
        LuaValue::Number(f) => Some(Operand::Num(*f)),
        LuaValue::UserData(ud) => ud.borrow::<Rdl>().ok().map(|r| Operand::Val(r.0.clone())),
        _ => None,
    }
}

/// Applies `op` componentwise to vector-with-vector (same kind) or vector-with-number.
fn arith(
    lua: &Lua,
    a: &LuaValue,
    b: &LuaValue,
    name: &str,
    op: fn(f64, f64) -> f64,
) -> mlua::Result<Rdl> {
    let fail = || {
        script_error(
            lua,
            format!(
                "cannot apply `{name}` to {} and {}",
                describe(a),
                describe(b)
            ),
        )
    };
    let (Some(x), Some(y)) = (operand(a), operand(b)) else {
        return Err(fail());
    };
    let result = match (x, y) {
        (Operand::Val(Value::Mat4(m)), Operand::Val(Value::Mat4(n))) if name == "*" => {
            Value::Mat4(mat_mul(&m, &n))
        }
        (Operand::Val(mut v), Operand::Val(w))
            if has_arithmetic(&v) && std::mem::discriminant(&v) == std::mem::discriminant(&w) =>
        {
            let rhs = components(&w).ok_or_else(fail)?.to_vec();
            components_mut(&mut v)
                .ok_or_else(fail)?
                .iter_mut()
                .zip(rhs)
                .for_each(|(p, q)| *p = op(*p, q));
            v
        }
        (Operand::Val(mut v), Operand::Num(n)) if has_arithmetic(&v) => {
            components_mut(&mut v)
                .ok_or_else(fail)?
                .iter_mut()
                .for_each(|p| *p = op(*p, n));
            v
        }
        (Operand::Num(n), Operand::Val(mut v)) if has_arithmetic(&v) => {
            components_mut(&mut v)
                .ok_or_else(fail)?
                .iter_mut()
                .for_each(|p| *p = op(n, *p));
            v
        }
        _ => return Err(fail()),
    };
    Ok(Rdl(result))
}

fn describe(value: &LuaValue) -> String {
    match value {
        LuaValue::UserData(ud) => match ud.borrow::<Rdl>() {
            Ok(r) => kind_name(&r.0).to_string(),
            Err(_) => "userdata".to_string(),
        },
        other => other.type_name().to_string(),
    }
}

/// The helper name that builds this kind of value, for messages.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Undef => "undef()",
        Value::Bool(_) => "boolean",
        Value::Int(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::Rgb(_) => "Rgb",
        Value::Rgba(_) => "Rgba",
        Value::Vec2(_) => "Vec2",
        Value::Vec3(_) => "Vec3",
        Value::Vec4(_) => "Vec4",
        Value::Mat4(_) => "Mat4",
        Value::Object(_) => "scene object",
        Value::List(_) => "table",
        Value::Bind { .. } => "bind()",
    }
}

fn format_value(lua: &Lua, value: &Value) -> String {
    let nums = |c: &[f64]| {
        c.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match value {
        Value::Mat4(m) => format!("Mat4({})", nums(m)),
        Value::Object(id) => with_builder(lua, |b| {
            let o = b.graph.object(*id);
            format!("{}(\"{}\")", o.class, o.name)
        }),
        Value::Bind { target, value } => {
            let t = target.map_or("undef()".to_string(), |id| {
                format_value(lua, &Value::Object(id))
            });
            format!("bind({t}, {})", format_value(lua, value))
        }
        other => match components(other) {
            Some(c) => format!("{}({})", kind_name(other), nums(c)),
            None => kind_name(other).to_string(),
        },
    }
}

impl UserData for Rdl {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // `obj { ... }` and `obj(table)`: re-open an object with more attributes or members.
        methods.add_meta_method(MetaMethod::Call, |lua, this, arg: LuaValue| match &this.0 {
            Value::Object(id) => {
                super::graph_builder::apply(lua, super::graph_builder::Target::Object(*id), arg)?;
                Ok(Rdl(this.0.clone()))
            }
            other => Err(script_error(
                lua,
                format!("attempt to call a {} value", kind_name(other)),
            )),
        });
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: LuaValue| {
            match &this.0 {
                Value::Object(id) => super::graph_builder::get_attr(
                    lua,
                    super::graph_builder::Target::Object(*id),
                    &key,
                ),
                other => {
                    let name = match &key {
                        LuaValue::String(s) => s.to_string_lossy(),
                        _ => String::new(),
                    };
                    match component_index(other, &name) {
                        Some(i) => Ok(LuaValue::Number(components(other).map_or(0.0, |c| c[i]))),
                        None => Err(script_error(
                            lua,
                            format!("{} has no field `{name}`", kind_name(other)),
                        )),
                    }
                }
            }
        });
        // A function rather than a `_mut` method: assigning an object to its own attribute
        // (`obj["x"] = obj`) must be able to borrow the userdata again while converting.
        methods.add_meta_function(
            MetaMethod::NewIndex,
            |lua, (ud, key, value): (mlua::AnyUserData, LuaValue, LuaValue)| {
                let current = ud.borrow::<Rdl>()?.0.clone();
                if let Value::Object(id) = current {
                    return super::graph_builder::set_attr(
                        lua,
                        super::graph_builder::Target::Object(id),
                        &key,
                        &value,
                    );
                }
                let name = match &key {
                    LuaValue::String(s) => s.to_string_lossy(),
                    _ => String::new(),
                };
                let number = match value {
                    LuaValue::Integer(i) => i as f64,
                    LuaValue::Number(f) => f,
                    _ => return Err(script_error(lua, "a vector component must be a number")),
                };
                let Some(i) = component_index(&current, &name) else {
                    return Err(script_error(
                        lua,
                        format!("{} has no field `{name}`", kind_name(&current)),
                    ));
                };
                let mut this = ud.borrow_mut::<Rdl>()?;
                if let Some(c) = components_mut(&mut this.0) {
                    c[i] = number;
                }
                Ok(())
            },
        );
        methods.add_meta_function(
            MetaMethod::Eq,
            |_, (a, b): (mlua::AnyUserData, mlua::AnyUserData)| {
                Ok(match (a.borrow::<Rdl>(), b.borrow::<Rdl>()) {
                    (Ok(x), Ok(y)) => x.0 == y.0,
                    _ => false,
                })
            },
        );
        methods.add_meta_method(MetaMethod::ToString, |lua, this, ()| {
            Ok(format_value(lua, &this.0))
        });
        methods.add_meta_function(MetaMethod::Add, |lua, (a, b): (LuaValue, LuaValue)| {
            arith(lua, &a, &b, "+", |p, q| p + q)
        });
        methods.add_meta_function(MetaMethod::Sub, |lua, (a, b): (LuaValue, LuaValue)| {
            arith(lua, &a, &b, "-", |p, q| p - q)
        });
        methods.add_meta_function(MetaMethod::Mul, |lua, (a, b): (LuaValue, LuaValue)| {
            arith(lua, &a, &b, "*", |p, q| p * q)
        });
        methods.add_meta_function(MetaMethod::Div, |lua, (a, b): (LuaValue, LuaValue)| {
            arith(lua, &a, &b, "/", |p, q| p / q)
        });
        methods.add_meta_method(MetaMethod::Unm, |lua, this, ()| {
            let a = LuaValue::Integer(-1);
            let b = LuaValue::UserData(lua.create_userdata(this.clone())?);
            arith(lua, &a, &b, "unary -", |p, q| p * q)
        });
    }
}

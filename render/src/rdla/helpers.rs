//! The RDLA helper functions: `Rgb Rgba Vec2 Vec3 Vec4 Mat4 translate rotate scale bind blur
//! undef udim`, installed as globals.
//!
//! Arguments are checked as scene_rdl2 checks them. `Rgb`...`Mat4`, `bind` and `blur` are C
//! functions in its `AsciiReader.cc` and want exactly their count (`bind` one or two);
//! `translate`, `rotate`, `scale` and `udim` are Lua functions in its `rdlalib`
//! (`transforms.lua`, `constructors.lua`), so extra arguments are dropped as Lua drops them:
//! `translate(x, y, z, 1)` is `translate(x, y, z)`.
//!
//! Matrices follow scene_rdl2: sixteen numbers, row-major, row vectors, translation in
//! elements 13..15 (1-based), and `a * b` applies `a` first. `rotate(deg, x, y, z)` is a
//! right-handed rotation about the normalised axis.

use mlua::{Lua, Table, Value as LuaValue, Variadic};

use super::graph_builder::script_error;
use super::values::{from_lua, Budget, Rdl};
use crate::graph::Value;

/// Installs every helper into `globals`.
pub(crate) fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    vector(lua, globals, "Rgb", 3, |c| Value::Rgb([c[0], c[1], c[2]]))?;
    vector(lua, globals, "Rgba", 4, |c| {
        Value::Rgba([c[0], c[1], c[2], c[3]])
    })?;
    vector(lua, globals, "Vec2", 2, |c| Value::Vec2([c[0], c[1]]))?;
    vector(lua, globals, "Vec3", 3, |c| Value::Vec3([c[0], c[1], c[2]]))?;
    vector(lua, globals, "Vec4", 4, |c| {
        Value::Vec4([c[0], c[1], c[2], c[3]])
    })?;
    vector(lua, globals, "Mat4", 16, |c| {
        let mut m = [0.0; 16];
        m.copy_from_slice(c);
        Value::Mat4(m)
    })?;
    lua_function(lua, globals, "translate", 3, |c| {
        Value::Mat4(translate(c[0], c[1], c[2]))
    })?;
    lua_function(lua, globals, "scale", 3, |c| {
        Value::Mat4(scale(c[0], c[1], c[2]))
    })?;
    globals.raw_set(
        "rotate",
        lua.create_function(|lua, args: Variadic<LuaValue>| {
            let c = lua_numbers(lua, "rotate", 4, &args)?;
            match rotate(c[0], c[1], c[2], c[3]) {
                Some(m) => Ok(Rdl(Value::Mat4(m))),
                None => Err(script_error(
                    lua,
                    "bad arguments to 'rotate' (the rotation axis is zero)",
                )),
            }
        })?,
    )?;
    globals.raw_set("undef", lua.create_function(|_, ()| Ok(Rdl(Value::Undef)))?)?;
    globals.raw_set(
        "bind",
        lua.create_function(|lua, args: Variadic<LuaValue>| {
            if args.is_empty() || args.len() > 2 {
                return Err(script_error(
                    lua,
                    format!(
                        "wrong number of arguments to 'bind' (1 or 2 expected, got {})",
                        args.len()
                    ),
                ));
            }
            bind(lua, (args[0].clone(), args.get(1).cloned()))
        })?,
    )?;
    // Moonfarm renders without motion blur: `blur(a, b)` keeps the value at shutter open.
    globals.raw_set(
        "blur",
        lua.create_function(|lua, args: Variadic<LuaValue>| {
            if args.len() != 2 {
                return Err(script_error(
                    lua,
                    format!(
                        "wrong number of arguments to 'blur' (2 expected, got {})",
                        args.len()
                    ),
                ));
            }
            let (a, b) = (&args[0], &args[1]);
            let (ta, tb) = (blur_type(a), blur_type(b));
            if ta != tb {
                return Err(script_error(
                    lua,
                    format!("both arguments must be of the same type (#1 is {ta}, #2 is {tb})"),
                ));
            }
            Ok(a.clone())
        })?,
    )?;
    globals.raw_set("udim", lua.create_function(udim)?)?;
    Ok(())
}

/// What `blur` compares: Lua's type, and for helper values their kind (an `Rgb` does not
/// blur into a `Vec3`), as scene_rdl2 compares metatables.
fn blur_type(v: &LuaValue) -> String {
    match v {
        LuaValue::Integer(_) | LuaValue::Number(_) => "number".to_string(),
        LuaValue::UserData(ud) => match ud.borrow::<Rdl>() {
            Ok(r) => super::values::kind_name(&r.0).to_string(),
            Err(_) => "userdata".to_string(),
        },
        other => other.type_name().to_string(),
    }
}

/// `udim(map)`: `{ [1001] = "a.tx", ... }` as two parallel lists, the tile numbers and the
/// file names (what ImageMap's `udim_values` and `udim_files` take). scene_rdl2 walks the
/// table with `pairs`, in no defined order; here the tiles come sorted, so every worker
/// builds the same lists.
fn udim(lua: &Lua, map: LuaValue) -> mlua::Result<(Table, Table)> {
    let LuaValue::Table(map) = map else {
        return Err(script_error(
            lua,
            format!(
                "bad argument #1 to 'udim' (table expected, got {})",
                map.type_name()
            ),
        ));
    };
    let mut pairs: Vec<(LuaValue, LuaValue)> = map.pairs().collect::<mlua::Result<_>>()?;
    pairs.sort_by(|(a, _), (b, _)| {
        let key = |v: &LuaValue| match v {
            LuaValue::Integer(i) => *i as f64,
            LuaValue::Number(n) => *n,
            _ => f64::INFINITY,
        };
        key(a).total_cmp(&key(b))
    });
    let (values, files) = (lua.create_table()?, lua.create_table()?);
    for (k, v) in pairs {
        values.raw_push(k)?;
        files.raw_push(v)?;
    }
    Ok((values, files))
}

/// Registers a helper that scene_rdl2 writes in Lua, taking `n` numbers: missing ones are an
/// error, extra ones are dropped.
fn lua_function(
    lua: &Lua,
    globals: &Table,
    name: &'static str,
    n: usize,
    build: fn(&[f64]) -> Value,
) -> mlua::Result<()> {
    numeric_helper(lua, globals, name, n, lua_numbers, build)
}

/// How a numeric helper reads its arguments: [`lua_numbers`] or [`numbers`].
type ArgCheck = fn(&Lua, &str, usize, &[LuaValue]) -> mlua::Result<Vec<f64>>;

/// Registers helper `name`: its arguments read by `check`, its value made by `build`.
fn numeric_helper(
    lua: &Lua,
    globals: &Table,
    name: &'static str,
    n: usize,
    check: ArgCheck,
    build: fn(&[f64]) -> Value,
) -> mlua::Result<()> {
    let f = lua.create_function(move |lua, args: Variadic<LuaValue>| {
        let c = check(lua, name, n, &args)?;
        Ok(Rdl(build(&c)))
    })?;
    globals.raw_set(name, f)
}

/// The first `n` arguments as numbers, checked as `transforms.lua` checks them: any of them
/// nil is "wrong number of arguments", a non-number is "bad argument"; the rest are ignored.
fn lua_numbers(lua: &Lua, name: &str, n: usize, args: &[LuaValue]) -> mlua::Result<Vec<f64>> {
    let given = &args[..args.len().min(n)];
    if given.len() < n || given.iter().any(|a| matches!(a, LuaValue::Nil)) {
        return Err(script_error(
            lua,
            format!("wrong number of arguments to '{name}' (expected {n})"),
        ));
    }
    given
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            LuaValue::Integer(v) => Ok(*v as f64),
            LuaValue::Number(v) => Ok(*v),
            other => Err(script_error(
                lua,
                format!(
                    "bad argument #{} to '{name}' (number expected, got {})",
                    i + 1,
                    other.type_name()
                ),
            )),
        })
        .collect()
}

/// Registers a helper taking exactly `n` numbers.
fn vector(
    lua: &Lua,
    globals: &Table,
    name: &'static str,
    n: usize,
    build: fn(&[f64]) -> Value,
) -> mlua::Result<()> {
    numeric_helper(lua, globals, name, n, numbers, build)
}

/// Checks the argument count and types as `AsciiReader.cc` does: exactly `n` arguments, each
/// a number or a string Lua converts to one (`luaL_checknumber`).
fn numbers(lua: &Lua, name: &str, n: usize, args: &[LuaValue]) -> mlua::Result<Vec<f64>> {
    if args.len() != n {
        return Err(script_error(
            lua,
            format!(
                "wrong number of arguments to '{name}' ({n} expected, got {})",
                args.len()
            ),
        ));
    }
    args.iter()
        .enumerate()
        .map(|(i, a)| match a {
            LuaValue::Integer(v) => Ok(*v as f64),
            LuaValue::Number(v) => Ok(*v),
            LuaValue::String(s)
                if s.to_str()
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .is_some() =>
            {
                Ok(s.to_str()
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .unwrap_or_default())
            }
            other => Err(script_error(
                lua,
                format!(
                    "bad argument #{} to '{name}' (number expected, got {})",
                    i + 1,
                    other.type_name()
                ),
            )),
        })
        .collect()
}

/// `bind(target[, value])`: `target` is a scene object, `undef()` or nil; `value` is the
/// constant used where the map is absent.
fn bind(lua: &Lua, (target, value): (LuaValue, Option<LuaValue>)) -> mlua::Result<Rdl> {
    let target = match &target {
        LuaValue::Nil => None,
        LuaValue::UserData(ud) => match ud.borrow::<Rdl>().map(|r| r.0.clone()) {
            Ok(Value::Object(id)) => Some(id),
            Ok(Value::Undef) => None,
            _ => {
                return Err(script_error(
                    lua,
                    "bad argument #1 to 'bind' (scene object or undef() expected)",
                ))
            }
        },
        other => {
            return Err(script_error(
                lua,
                format!(
                    "bad argument #1 to 'bind' (scene object or undef() expected, got {})",
                    other.type_name()
                ),
            ))
        }
    };
    let mut budget = Budget::new();
    let value = match value {
        Some(v) => from_lua(lua, &v, &mut budget)?,
        None => Value::Undef,
    };
    budget.commit(lua)?;
    Ok(Rdl(Value::Bind {
        target,
        value: Box::new(value),
    }))
}

pub(crate) fn translate(x: f64, y: f64, z: f64) -> [f64; 16] {
    [
        1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, x, y, z, 1.0,
    ]
}

pub(crate) fn scale(x: f64, y: f64, z: f64) -> [f64; 16] {
    [
        x, 0.0, 0.0, 0.0, 0.0, y, 0.0, 0.0, 0.0, 0.0, z, 0.0, 0.0, 0.0, 0.0, 1.0,
    ]
}

/// Rotation by `degrees` about the axis (x, y, z), for row vectors: the transpose of the
/// usual column-vector axis-angle matrix. `None` when the axis has zero length.
#[rustfmt::skip]
pub(crate) fn rotate(degrees: f64, x: f64, y: f64, z: f64) -> Option<[f64; 16]> {
    let len = (x * x + y * y + z * z).sqrt();
    if len == 0.0 || !len.is_finite() {
        return None;
    }
    let (x, y, z) = (x / len, y / len, z / len);
    let (s, c) = degrees.to_radians().sin_cos();
    let t = 1.0 - c;
    Some([
        t * x * x + c,     t * x * y + s * z, t * x * z - s * y, 0.0,
        t * x * y - s * z, t * y * y + c,     t * y * z + s * x, 0.0,
        t * x * z + s * y, t * y * z - s * x, t * z * z + c,     0.0,
        0.0,               0.0,               0.0,               1.0,
    ])
}

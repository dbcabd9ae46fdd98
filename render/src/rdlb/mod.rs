//! RDLB, scene_rdl2's binary scene format: a reader into the same [`SceneGraph`] the RDLA
//! loader builds, and a writer from it. Pure: bytes in, graph out, no I/O.
//!
//! The layout, from scene_rdl2's `BinaryWriter.cc`, `BinaryReader.cc`, `ValueContainerEnq.h`,
//! `ValueContainerDeq.cc` and `ValueContainerUtil.h`:
//!
//! - a frame: `u64` big-endian manifest length, `u64` big-endian payload length, the manifest,
//!   the payload;
//! - the manifest and every object record are "value containers": an 8-byte little-endian
//!   total size that counts itself, then the data. The manifest holds a varint record count,
//!   then a (varint record type, varint size) pair per record, records laid end to end in the
//!   payload; type 2 (`SCENE_OBJECT_2`) is the only one scene_rdl2 reads today;
//! - a record: class name, object name, attributes until a wire type of 0 (varint wire type,
//!   u8 "transient" flag, the attribute name (or a zigzag attribute index when transient), a
//!   u8 `timeMax`, then `timeMax + 1` samples of (u8 timestep, value)), then bindings while a
//!   u8 1 leads (u8 transient flag, name, target class, target object; empty names mean
//!   unbound) until a u8 0;
//! - values: bool one byte; int and long zigzag LEB128; float, double, Rgb(a), Vec, Mat raw
//!   little-endian; strings a varint length then bytes; object references both lengths, then
//!   both strings; vectors a varint count then their elements (int and long vectors as
//!   zigzag varints). Sets and the Layer are attribute vectors (`geometries`, `lights`, the
//!   Layer's parallel `geometries`/`parts`/`surface_shaders`/`lightsets`/...).
//!
//! Moonfarm's graph is untyped (the Lua values a scene wrote), so the writer picks for each
//! value the wire type that holds it exactly: doubles, `Vec*d`, `Mat4d`, ints as int or long;
//! only colours are single precision, as scene_rdl2 has no double colour type. The reader
//! accepts every wire type. Blurred attributes keep their first sample, as `blur()` does in
//! the RDLA loader.

mod cursor;
mod read;
mod write;

#[cfg(test)]
mod tests;

pub use read::{apply, decode, Record, Target};
pub use write::{
    encode, is_large, large_members, layer_assignments, WriteError, SPLIT_VECTOR_SIZE,
};

/// A malformed RDLB file: what is wrong and at which byte offset of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {message}")]
pub struct RdlbError {
    pub offset: usize,
    pub message: String,
}

/// Whether `bytes` hold RDLB rather than RDLA text, decided by content: an RDLB file opens
/// with two big-endian lengths (manifest, payload) whose leading bytes are zero for any file
/// under 2^56 bytes, while a Lua scene is text and has no NUL byte. A NUL in the first 16
/// bytes therefore means RDLB, even when the lengths there lie.
pub fn is_rdlb(bytes: &[u8]) -> bool {
    bytes.iter().take(16).any(|b| *b == 0)
}

/// The value-container wire types (`ValueContainerUtil::ValueType`), numbered as scene_rdl2
/// numbers them; 0 ends a record's attribute list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Wire {
    Bool = 1,
    BoolVector,
    Int,
    IntVector,
    Long,
    LongVector,
    Float,
    FloatVector,
    Double,
    DoubleVector,
    String,
    StringVector,
    Rgb,
    RgbVector,
    Rgba,
    RgbaVector,
    Vec2f,
    Vec2fVector,
    Vec2d,
    Vec2dVector,
    Vec3f,
    Vec3fVector,
    Vec3d,
    Vec3dVector,
    Vec4f,
    Vec4fVector,
    Vec4d,
    Vec4dVector,
    Mat4f,
    Mat4fVector,
    Mat4d,
    Mat4dVector,
    SceneObject,
    SceneObjectVector,
    SceneObjectIndexable,
}

impl Wire {
    pub(crate) fn from_code(code: u64) -> Option<Wire> {
        const ALL: [Wire; 35] = [
            Wire::Bool,
            Wire::BoolVector,
            Wire::Int,
            Wire::IntVector,
            Wire::Long,
            Wire::LongVector,
            Wire::Float,
            Wire::FloatVector,
            Wire::Double,
            Wire::DoubleVector,
            Wire::String,
            Wire::StringVector,
            Wire::Rgb,
            Wire::RgbVector,
            Wire::Rgba,
            Wire::RgbaVector,
            Wire::Vec2f,
            Wire::Vec2fVector,
            Wire::Vec2d,
            Wire::Vec2dVector,
            Wire::Vec3f,
            Wire::Vec3fVector,
            Wire::Vec3d,
            Wire::Vec3dVector,
            Wire::Vec4f,
            Wire::Vec4fVector,
            Wire::Vec4d,
            Wire::Vec4dVector,
            Wire::Mat4f,
            Wire::Mat4fVector,
            Wire::Mat4d,
            Wire::Mat4dVector,
            Wire::SceneObject,
            Wire::SceneObjectVector,
            Wire::SceneObjectIndexable,
        ];
        let i = usize::try_from(code.checked_sub(1)?).ok()?;
        ALL.get(i).copied()
    }
}

/// The record type of a scene object in the manifest (`SCENE_OBJECT_2`); 1 is an older
/// layout scene_rdl2 no longer reads.
pub(crate) const SCENE_OBJECT_RECORD: u64 = 2;

/// The class and name scene_rdl2 gives the scene variables object.
pub(crate) const SCENE_VARIABLES: (&str, &str) = ("SceneVariables", "__SceneVariables__");

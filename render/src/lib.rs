//! RDLA scene loading and Moonfarm's built-in CPU path tracer.
//!
//! `rdla` runs the scene files in a sandboxed Lua and yields a `graph::SceneGraph`; `scene`
//! gives it MoonRay's meaning; `integrator::render_tile` renders a rectangle of pixels over a
//! range of sample indices. This crate does no I/O beyond what it is handed and knows nothing
//! of queues, blobs or files on disk.

pub mod assets;
pub mod attrs;
pub mod bsdf;
pub mod bvh;
pub mod camera;
pub mod classes;
pub mod curve;
pub mod envmap;
pub mod filter;
pub mod fresnel;
pub mod geometry;
pub mod graph;
pub mod hair;
pub mod integrator;
pub mod light;
pub mod microfacet;
pub mod noise;
pub mod noise_map;
pub mod normal_map;
pub mod projection;
pub mod rdla;
pub mod rdlb;
pub mod sampler;
pub mod scene;
pub mod shading;
pub mod texture;
pub mod worley;

/// Why a scene could not be prepared for rendering; one line, naming file and line.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Load(#[from] rdla::LoadError),
    #[error(transparent)]
    Scene(#[from] scene::SceneError),
}

/// Runs the scene files and builds the renderable scene: what producer and worker both do.
/// `env` holds the values `os.getenv` may return (the submitting user's, carried with the job).
pub fn prepare(
    sources: &[rdla::SceneSource],
    env: &[(String, String)],
    opts: &scene::BuildOptions,
) -> Result<(scene::Scene, Vec<String>), PrepareError> {
    prepare_frame(
        sources,
        &FrameInputs {
            env: env.to_vec(),
            ..FrameInputs::default()
        },
        opts,
    )
}

/// The scene loader's limits: `producer submit --lua-instructions` and `--lua-memory`, carried
/// with the job so that every worker loads the scene under the same ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LuaLimits {
    /// Lua VM instructions over all scene files together.
    pub instructions: u64,
    /// Lua heap plus the scene graph, in bytes.
    pub memory_bytes: usize,
}

impl Default for LuaLimits {
    fn default() -> Self {
        let d = rdla::LoadOptions::default();
        LuaLimits {
            instructions: d.instruction_limit,
            memory_bytes: d.memory_limit_bytes,
        }
    }
}

/// What the command line hands the interpreter besides the scene files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameInputs {
    /// The loader's instruction and memory limits.
    pub limits: LuaLimits,
    /// Lua `print` also goes to stderr (`file:line: text`): the user's own terminal, where the
    /// producer runs. Workers leave it off; `print` always reaches the log.
    pub echo_print: bool,
    /// What `os.getenv` may return.
    pub env: Vec<(String, String)>,
    /// The frame of a sequence: the global `frame`, and `SceneVariables.frame` unless set.
    pub frame: Option<i32>,
    /// `NAME = VALUE` Lua assignments run before any scene file, as `moonray -rdla_set`.
    pub rdla_set: Vec<(String, String)>,
}

/// [`prepare`] for one frame of a sequence, with `-rdla_set` assignments.
pub fn prepare_frame(
    sources: &[rdla::SceneSource],
    inputs: &FrameInputs,
    opts: &scene::BuildOptions,
) -> Result<(scene::Scene, Vec<String>), PrepareError> {
    let graph = load_frame(sources, inputs)?;
    Ok(scene::build(&graph, opts)?)
}

/// The scene graph of one frame (the first half of [`prepare_frame`]), for a caller that reads
/// the files the graph references before building the scene with their bytes.
pub fn load_frame(
    sources: &[rdla::SceneSource],
    inputs: &FrameInputs,
) -> Result<graph::SceneGraph, PrepareError> {
    let load = rdla::LoadOptions {
        env: inputs.env.clone(),
        frame: inputs.frame,
        rdla_set: inputs.rdla_set.clone(),
        instruction_limit: inputs.limits.instructions,
        memory_limit_bytes: inputs.limits.memory_bytes,
        echo_print: inputs.echo_print,
    };
    Ok(rdla::load(sources, &load)?)
}

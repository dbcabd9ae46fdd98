"""The comparison scenes, each one Python dict that emits both an RDLA file and a Mitsuba 3 scene.

Every number lives once, in SCENES; `rdla(scene)` and `mitsuba_dict(scene, mi)` translate it.
The settings are ones both renderers can express identically, and why:

- `sample_clamping_value` 0: MoonRay clamps by default (10); Mitsuba's `path` cannot clamp.
- `max_depth` N with every per-lobe depth also N, so only the total depth binds; MoonRay's
  max_depth N (N + 1 surface vertices, each with a light sample) is Mitsuba's max_depth N + 2.
- `pixel_filter` box of width 1 (MoonRay's default is a cubic B-spline of width 3): Mitsuba's
  `box` rfilter has radius 0.5, so each sample lands in exactly one pixel in both.
- `lights_visible_in_camera` true (MoonRay's default is false), as Mitsuba shows emitters.
- Lights are not `normalized` (MoonRay's default divides by area * scene_scale^2 * pi): the
  radiance is written as is on both sides. MoonRay's lights (and the built-in renderer's)
  reflect and occlude nothing: a path that meets one counts it and goes on to the geometry
  behind. So the Mitsuba rectangle that carries the area emitter gets the `null` BSDF, which
  lets a path through (its emission counted, as MoonRay does); with a black BSDF, which ends
  the path there, the Cornell scenes came out 1% darker than ours, from the ceiling behind the
  light (1 cm above it) that our paths reach and Mitsuba's did not. Mitsuba counts the pass
  through as a bounce of its max_depth, which cuts a path that crosses the light one bounce
  short of ours; shadow rays are not affected (a light is only seen from its front).
- Metals are DwaMetalMaterial with `metallic_color` and `metallic_edge_color` both the
  scene's colour: GGX with alpha = roughness^2 and MoonRay's artist-friendly conductor
  Fresnel, whose n and k (Gulbrandsen's mapping, `_artist_friendly_ior`) Mitsuba's
  `roughconductor` / `conductor` take as they are (its exact conductor Fresnel differs from
  MoonRay's approximation by well under 1% for these colours). DwaBaseMaterial's dielectric
  specular layer has no exact Mitsuba twin, so the diffuse materials set specular 0.
- Glass is DwaRefractiveMaterial with roughness 0 (its default is 0.5), Mitsuba's
  `dielectric`.
- Textures are 8-bit PNGs written by `write_textures` beside the RDLA, read linearly by both:
  ImageMap with `gamma` 0 (MoonRay's auto applies a 2.2 power to 8-bit files) and Mitsuba's
  `bitmap` with `raw` (else it applies the sRGB transfer, which is not a 2.2 power). So each
  texel is exactly k / 255 on both sides; a float EXR would do as well but needs a writer
  the standard library lacks. Both filter bilinearly between texel centres and repeat past
  the border. MoonRay's v runs up from the image's bottom row; Mitsuba's OBJ loader turns an
  OBJ `vt` v into 1 - v and its bitmap reads row 0 at v = 0, so the same uvs written to both
  meet the same texels.
- An EnvLight's lat-long `texture` (an 8-bit file, which the built-in renderer reads linearly: lights have no `gamma`) is
  Mitsuba's `envmap`, which maps directions the same way, so no transform is needed: u = 0
  looks towards -Z, 0.25 +X, 0.5 +Z, 0.75 -X, the top row up (+Y). The envmap has no `raw`
  and reads 8-bit files as sRGB, so it gets the texels as linear floats; it filters
  bilinearly, as the RDLA asks with `texture_filter` 1 (MoonRay's default is nearest).
- Curves are RdlCurveGeometry uniform cubic b-splines drawn as round tubes (`curve_type` 2,
  `curves_subtype` 1) with one radius per curve, Mitsuba's `bsplinecurve` (Embree's round
  b-spline): the same basis and, at a constant radius, the same tube. Neither caps a cubic
  curve's ends, and the scene keeps them outside the frame.
- Meshes without normals: MoonRay's `smooth_normal` (default true) interpolates vertex
  normals; Mitsuba's OBJ loader computes angle-weighted vertex normals the same way.
"""
import math

import numpy as np

# ----------------------------------------------------------------------------- transforms
# 4x4 matrices for column vectors (p' = M p), composed right to left.


def translate(x, y, z):
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def scale(x, y, z):
    return np.diag([x, y, z, 1.0])


def rotate(deg, x, y, z):
    a = np.array([x, y, z], float)
    a /= np.linalg.norm(a)
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    m = np.eye(4)
    m[:3, :3] = c * np.eye(3) + s * k + (1 - c) * np.outer(a, a)
    return m


# ----------------------------------------------------------------------------- the scenes


def quad(a, b, c, d):
    return {"kind": "mesh", "verts": [a, b, c, d], "faces": [[0, 1, 2, 3]]}


def uv_quad(a, b, c, d, uv_max):
    """A quad whose uvs run from (0, 0) at `a` to (uv_max, uv_max) at `c`."""
    m = uv_max
    return {"kind": "mesh", "verts": [a, b, c, d], "faces": [[0, 1, 2, 3]], "uvs": [(0, 0), (m, 0), (m, m), (0, m)]}


def checker_texture(n, cells):
    """An n x n RGB texture, row 0 at the top: `cells` x `cells` checks of warm and cool
    colours whose brightness runs left to right, as bytes (k / 255 per channel)."""
    rows = []
    for y in range(n):
        row = []
        for x in range(n):
            odd = (x * cells // n + y * cells // n) % 2
            ramp = 0.35 + 0.6 * x / (n - 1)
            base = (0.9, 0.55, 0.2) if odd else (0.25, 0.45, 0.85)
            row.append(tuple(round(255 * ramp * c) for c in base))
        rows.append(row)
    return rows


def _png(rows):
    """An 8-bit RGB PNG (no colour-space chunk) of `rows`, made with the standard library."""
    import struct
    import zlib

    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def sky_texture(w, h):
    """A w x h lat-long sky, row 0 at the top (+Y): blue at the zenith to pale at the horizon,
    brown below it, and a bright warm sun (a smooth blob) at u = 0.3, 35 degrees up, as bytes."""
    rows = []
    su, sv = 0.3, 1 - (90 - 35) / 180
    for y in range(h):
        v = 1 - (y + 0.5) / h
        row = []
        for x in range(w):
            u = (x + 0.5) / w
            if v > 0.5:
                t = (v - 0.5) * 2
                c = [0.85 - 0.55 * t, 0.9 - 0.4 * t, 1.0 - 0.1 * t]
            else:
                c = [0.35, 0.27, 0.2]
            du, dv = min(abs(u - su), 1 - abs(u - su)) * 2, v - sv
            sun = math.exp(-(du * du + dv * dv) / (2 * 0.04 ** 2))
            c = [min(1.0, ch * (1 - sun) + sun) for ch in c]
            c = [ch * (0.25 + 0.75 * sun) for ch in c]
            row.append(tuple(round(255 * ch) for ch in c))
        rows.append(row)
    return rows


def write_textures(s, folder):
    """Writes the scene's textures into `folder` (the RDLA's folder: its paths are relative)."""
    for tex in [m["texture"] for _, m in s["objects"] if "texture" in m] + [l["texture"] for l in s["lights"] if "texture" in l]:
        with open(f"{folder}/{tex['file']}", "wb") as f:
            f.write(_png(tex["rows"]))


def wave_curve(x0, x1, z, height, amp, waves, radius, n=24):
    """A b-spline's control points along x at depth z, bobbing in y, with one radius."""
    pts = []
    for i in range(n):
        t = i / (n - 1)
        x = x0 + (x1 - x0) * t
        pts.append((x, height + amp * math.sin(2 * math.pi * waves * t), z + 0.15 * math.cos(3 * math.pi * t)))
    return {"points": pts, "radius": radius}


def icosphere(center, radius, level):
    """A geodesic sphere: an icosahedron subdivided `level` times, vertices on the sphere."""
    t = (1 + 5 ** 0.5) / 2
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    verts = [np.array(v, float) / np.linalg.norm(v) for v in verts]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6),
             (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10),
             (8, 6, 7), (9, 8, 1)]
    for _ in range(level):
        mid = {}

        def m(i, j):
            key = (min(i, j), max(i, j))
            if key not in mid:
                v = verts[i] + verts[j]
                verts.append(v / np.linalg.norm(v))
                mid[key] = len(verts) - 1
            return mid[key]

        faces = [f for a, b, c in faces for f in ((a, m(a, b), m(c, a)), (b, m(b, c), m(a, b)), (c, m(c, a), m(b, c)),
                                                 (m(a, b), m(b, c), m(c, a)))]
    center = np.array(center, float)
    return {"kind": "mesh", "verts": [tuple(center + radius * v) for v in verts], "faces": [list(f) for f in faces]}


def cornell_walls():
    return {
        "floor": quad((-1, 0, 1), (1, 0, 1), (1, 0, -1), (-1, 0, -1)),
        "ceiling": quad((-1, 2, -1), (1, 2, -1), (1, 2, 1), (-1, 2, 1)),
        "back": quad((-1, 0, -1), (1, 0, -1), (1, 2, -1), (-1, 2, -1)),
        "left": quad((-1, 0, 1), (-1, 0, -1), (-1, 2, -1), (-1, 2, 1)),
        "right": quad((1, 0, -1), (1, 0, 1), (1, 2, 1), (1, 2, -1)),
    }


WHITE = {"kind": "diffuse", "albedo": (0.73, 0.73, 0.73)}
RED = {"kind": "diffuse", "albedo": (0.63, 0.065, 0.05)}
GREEN = {"kind": "diffuse", "albedo": (0.14, 0.45, 0.091)}


def cornell_room():
    """The five walls with their materials: white floor, ceiling and back, red left, green right."""
    w = cornell_walls()
    return [(w["floor"], WHITE), (w["ceiling"], WHITE), (w["back"], WHITE), (w["left"], RED), (w["right"], GREEN)]
CAMERA = {"xform": translate(0, 1, 3.6), "focal": 30.0, "film_width_aperture": 24.0}
# A light 1 cm under the ceiling, emitting straight down (its local -Z turned to -Y).
CEILING_LIGHT = {"kind": "rect", "xform": translate(0, 1.99, 0) @ rotate(-90, 1, 0, 0), "width": 0.5, "height": 0.5,
                 "radiance": (20.0, 17.0, 12.0)}


def box(center, size, rot_y):
    return {"kind": "box", "xform": translate(*center) @ rotate(rot_y, 0, 1, 0), "size": size}


SCENES = {
    "cornell": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 8,
        "camera": CAMERA,
        "lights": [CEILING_LIGHT],
        "objects": [
            *cornell_room(),
            (box((0.35, 0.3, 0.35), (0.6, 0.6, 0.6), -18), WHITE),
            (box((-0.35, 0.6, -0.3), (0.6, 1.2, 0.6), 20), WHITE),
        ],
    },
    "metal": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 8,
        "camera": CAMERA,
        "lights": [CEILING_LIGHT],
        "objects": [
            *cornell_room(),
            ({"kind": "sphere", "center": (-0.5, 0.35, -0.2), "radius": 0.35}, {"kind": "metal", "color": (0.95, 0.64, 0.54), "roughness": 0.3}),
            ({"kind": "sphere", "center": (0.45, 0.3, 0.3), "radius": 0.3}, {"kind": "metal", "color": (0.91, 0.92, 0.92), "roughness": 0.6}),
            ({"kind": "sphere", "center": (0.3, 0.9, -0.6), "radius": 0.25}, {"kind": "metal", "color": (1.0, 1.0, 1.0), "roughness": 0.0}),
        ],
    },
    "glass": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 10,
        "camera": CAMERA,
        "lights": [CEILING_LIGHT],
        "objects": [
            *cornell_room(),
            ({"kind": "sphere", "center": (-0.35, 0.4, 0.1), "radius": 0.4}, {"kind": "glass", "ior": 1.5}),
            (box((0.45, 0.3, -0.4), (0.5, 0.6, 0.5), 15), WHITE),
        ],
    },
    "envlight": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 6,
        "camera": {"xform": translate(0, 1.2, 4.0) @ rotate(-12, 1, 0, 0), "focal": 30.0, "film_width_aperture": 24.0},
        "lights": [{"kind": "env", "radiance": (0.8, 0.9, 1.0)}],
        "objects": [
            (quad((-4, 0, 4), (4, 0, 4), (4, 0, -4), (-4, 0, -4)), {"kind": "diffuse", "albedo": (0.6, 0.6, 0.6)}),
            (icosphere((-0.7, 0.5, 0.0), 0.5, 2), {"kind": "diffuse", "albedo": (0.8, 0.3, 0.2)}),
            ({"kind": "sphere", "center": (0.6, 0.45, 0.2), "radius": 0.45}, {"kind": "metal", "color": (0.9, 0.8, 0.5), "roughness": 0.35}),
            (box((0.0, 0.25, -1.0), (0.5, 0.5, 0.5), 30), {"kind": "diffuse", "albedo": (0.2, 0.5, 0.7)}),
        ],
    },
    "texture": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 6,
        "camera": {"xform": translate(0, 1.2, 4.0) @ rotate(-12, 1, 0, 0), "focal": 30.0, "film_width_aperture": 24.0},
        "lights": [{"kind": "env", "radiance": (0.8, 0.9, 1.0)}],
        "objects": [
            # The floor repeats a 16x16 texture 4 times each way, so a texel spans 12.5 cm;
            # the back wall shows it once, 4 m across.
            (uv_quad((-4, 0, 4), (4, 0, 4), (4, 0, -4), (-4, 0, -4), 4),
             {"kind": "diffuse", "texture": {"file": "texture-checker.png", "rows": checker_texture(16, 4)}}),
            (uv_quad((-2, 0, -1.5), (2, 0, -1.5), (2, 4, -1.5), (-2, 4, -1.5), 1),
             {"kind": "diffuse", "texture": {"file": "texture-checker.png", "rows": checker_texture(16, 4)}}),
            (icosphere((-0.6, 0.5, 0.3), 0.5, 2), {"kind": "diffuse", "albedo": (0.7, 0.7, 0.7)}),
            (box((0.7, 0.35, 0.0), (0.7, 0.7, 0.7), 25), {"kind": "diffuse", "albedo": (0.5, 0.5, 0.5)}),
        ],
    },
    "envmap": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 6,
        "camera": {"xform": translate(0, 1.2, 4.0) @ rotate(-12, 1, 0, 0), "focal": 30.0, "film_width_aperture": 24.0},
        "lights": [{"kind": "env", "radiance": (2.0, 2.0, 2.0), "texture": {"file": "envmap-sky.png", "rows": sky_texture(256, 128)}}],
        "objects": [
            (quad((-4, 0, 4), (4, 0, 4), (4, 0, -4), (-4, 0, -4)), {"kind": "diffuse", "albedo": (0.6, 0.6, 0.6)}),
            (icosphere((-0.7, 0.5, 0.0), 0.5, 2), {"kind": "diffuse", "albedo": (0.8, 0.3, 0.2)}),
            ({"kind": "sphere", "center": (0.6, 0.45, 0.2), "radius": 0.45}, {"kind": "metal", "color": (0.9, 0.8, 0.5), "roughness": 0.35}),
            (box((0.0, 0.25, -1.0), (0.5, 0.5, 0.5), 30), {"kind": "diffuse", "albedo": (0.2, 0.5, 0.7)}),
        ],
    },
    "curves": {
        "width": 256, "height": 256, "spp": 64, "max_depth": 6,
        "camera": {"xform": translate(0, 0.8, 3.5) @ rotate(-8, 1, 0, 0), "focal": 30.0, "film_width_aperture": 24.0},
        "lights": [{"kind": "env", "radiance": (0.8, 0.9, 1.0)}],
        "objects": [
            (quad((-4, 0, 4), (4, 0, 4), (4, 0, -4), (-4, 0, -4)), {"kind": "diffuse", "albedo": (0.6, 0.6, 0.6)}),
            ({"kind": "curves", "curves": [
                wave_curve(-3.5, 3.5, 0.8, 0.25, 0.15, 3, 0.05),
                wave_curve(-3.5, 3.5, 0.2, 0.45, 0.25, 2, 0.08),
                wave_curve(-3.5, 3.5, -0.5, 0.6, 0.3, 4, 0.04),
                wave_curve(-3.5, 3.5, -1.2, 0.9, 0.4, 1.5, 0.12),
            ]}, {"kind": "diffuse", "albedo": (0.8, 0.35, 0.15)}),
        ],
    },
}

# ----------------------------------------------------------------------------- RDLA


def _mat4(m):
    # RDLA matrices are for row vectors (translation in the last row): the transpose, row-major.
    return "Mat4(" + ", ".join(f"{v:.9g}" for v in m.T.flatten()) + ")"


def _rgb(c):
    return "Rgb(" + ", ".join(f"{v:.9g}" for v in c) + ")"


def _vec3(c):
    return "Vec3(" + ", ".join(f"{v:.9g}" for v in c) + ")"


def rdla(s):
    d = s["max_depth"]
    out = [
        "-- Written by bench/scenes.py from the same numbers as its Mitsuba twin; do not edit by hand.",
        "SceneVariables {",
        f'    ["image_width"] = {s["width"]}, ["image_height"] = {s["height"]},',
        f'    ["pixel_samples"] = {round(math.sqrt(s["spp"]))},',
        f'    ["max_depth"] = {d}, ["max_diffuse_depth"] = {d}, ["max_glossy_depth"] = {d}, ["max_mirror_depth"] = {d},',
        '    ["sample_clamping_value"] = 0,',
        '    ["pixel_filter"] = 0, ["pixel_filter_width"] = 1,',
        '    ["lights_visible_in_camera"] = true,',
        "}",
        'Camera("cam") {',
        f'    ["node_xform"] = {_mat4(s["camera"]["xform"])},',
        f'    ["focal"] = {s["camera"]["focal"]}, ["film_width_aperture"] = {s["camera"]["film_width_aperture"]},',
        "}",
    ]
    lights = []
    for i, l in enumerate(s["lights"]):
        name = f"light{i}"
        lights.append(name)
        if l["kind"] == "rect":
            out.append(f'local {name} = RectLight("{name}") {{ ["node_xform"] = {_mat4(l["xform"])}, ["width"] = {l["width"]}, '
                       f'["height"] = {l["height"]}, ["color"] = {_rgb(l["radiance"])}, ["normalized"] = false }}')
        elif "texture" in l:
            out.append(f'local {name} = EnvLight("{name}") {{ ["color"] = {_rgb(l["radiance"])}, '
                       f'["texture"] = "{l["texture"]["file"]}", ["texture_filter"] = 1 }}')
        else:
            out.append(f'local {name} = EnvLight("{name}") {{ ["color"] = {_rgb(l["radiance"])} }}')
    out.append(f'local lights = LightSet("lights") {{ {", ".join(lights)} }}')
    rows = []
    for i, (geom, mat) in enumerate(s["objects"]):
        g, m = f"geom{i}", f"mat{i}"
        if geom["kind"] == "mesh":
            out.append(f'local {g} = RdlMeshGeometry("{g}") {{')
            out.append(f'    ["vertex_list_0"] = {{ {", ".join(_vec3(v) for v in geom["verts"])} }},')
            out.append(f'    ["vertices_by_index"] = {{ {", ".join(str(i) for f in geom["faces"] for i in f)} }},')
            out.append(f'    ["face_vertex_count"] = {{ {", ".join(str(len(f)) for f in geom["faces"])} }},')
            if "uvs" in geom:
                out.append(f'    ["uv_list"] = {{ {", ".join(f"Vec2({u:.9g}, {v:.9g})" for u, v in geom["uvs"])} }},')
            out.append('    ["is_subd"] = false,')
            out.append("}")
        elif geom["kind"] == "curves":
            pts = [p for c in geom["curves"] for p in c["points"]]
            radii = [c["radius"] for c in geom["curves"] for _ in c["points"]]
            out.append(f'local {g} = RdlCurveGeometry("{g}") {{')
            out.append(f'    ["vertex_list_0"] = {{ {", ".join(_vec3(v) for v in pts)} }},')
            out.append(f'    ["curves_vertex_count"] = {{ {", ".join(str(len(c["points"])) for c in geom["curves"])} }},')
            out.append(f'    ["radius_list"] = {{ {", ".join(f"{r:.9g}" for r in radii)} }},')
            out.append('    ["curve_type"] = 2, ["curves_subtype"] = 1,')
            out.append("}")
        elif geom["kind"] == "box":
            out.append(f'local {g} = BoxGeometry("{g}") {{ ["size"] = {_vec3(geom["size"])}, ["node_xform"] = {_mat4(geom["xform"])} }}')
        else:
            out.append(f'local {g} = SphereGeometry("{g}") {{ ["radius"] = {geom["radius"]}, ["node_xform"] = {_mat4(translate(*geom["center"]))} }}')
        if mat["kind"] == "diffuse" and "texture" in mat:
            out.append(f'local {m} = DwaBaseMaterial("{m}") {{ ["albedo"] = bind(ImageMap("{m}_tex") {{ '
                       f'["texture"] = "{mat["texture"]["file"]}", ["gamma"] = 0 }}), ["specular"] = 0 }}')
        elif mat["kind"] == "diffuse":
            out.append(f'local {m} = DwaBaseMaterial("{m}") {{ ["albedo"] = {_rgb(mat["albedo"])}, ["specular"] = 0 }}')
        elif mat["kind"] == "metal":
            c = _rgb(mat["color"])
            out.append(f'local {m} = DwaMetalMaterial("{m}") {{ ["metallic_color"] = {c}, ["metallic_edge_color"] = {c}, ["roughness"] = {mat["roughness"]} }}')
        else:
            out.append(f'local {m} = DwaRefractiveMaterial("{m}") {{ ["refractive_index"] = {mat["ior"]}, ["roughness"] = 0 }}')
        rows.append(f"    {{ {g}, \"\", {m}, lights }},")
    out.append('Layer("layer") {')
    out.extend(rows)
    out.append("}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- Mitsuba

# MoonRay's camera looks down its local -Z with +X to the right; Mitsuba's looks down +Z with
# +X to the left: a half turn about Y maps one onto the other.
_MOONRAY_TO_MITSUBA_CAMERA = rotate(180, 0, 1, 0)


def _write_obj(path, geom):
    with open(path, "w") as f:
        for v in geom["verts"]:
            f.write("v %r %r %r\n" % tuple(float(x) for x in v))
        for uv in geom.get("uvs", []):
            f.write("vt %r %r\n" % tuple(float(x) for x in uv))
        for face in geom["faces"]:
            if "uvs" in geom:
                f.write("f " + " ".join(f"{i + 1}/{i + 1}" for i in face) + "\n")
            else:
                f.write("f " + " ".join(str(i + 1) for i in face) + "\n")


def _write_curves(path, geom):
    # Mitsuba's curve files: "x y z radius" per control point, a blank line between curves.
    with open(path, "w") as f:
        for c in geom["curves"]:
            for p in c["points"]:
                f.write("%r %r %r %r\n" % (float(p[0]), float(p[1]), float(p[2]), float(c["radius"])))
            f.write("\n")


def _artist_friendly_ior(color, edge_color):
    """MoonRay's n and k from reflectivity and edge tint (moonray lib/rendering/shading/Ior.h,
    Gulbrandsen 2014), both clamped to 0.999, per channel."""
    eta, k = [], []
    for r, g in zip(color, edge_color):
        r, g = min(max(r, 0.0), 0.999), min(max(g, 0.0), 0.999)
        n = g * (1 - r) / (1 + r) + (1 - g) * (1 + math.sqrt(r)) / (1 - math.sqrt(r))
        eta.append(n)
        k.append(math.sqrt(max(0.0, r * (n + 1) ** 2 - (n - 1) ** 2) / (1 - r)))
    return eta, k


def mitsuba_dict(s, mi, workdir, name):
    """The Mitsuba scene dict; meshes are written as OBJ files under `workdir`."""
    T = lambda m: mi.ScalarTransform4f(m.tolist())  # noqa: E731
    fov = math.degrees(2 * math.atan(s["camera"]["film_width_aperture"] / (2 * s["camera"]["focal"])))
    d = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": s["max_depth"] + 2},
        "sensor": {
            "type": "perspective", "fov": fov, "fov_axis": "x", "near_clip": 1e-3, "far_clip": 1e5,
            "to_world": T(s["camera"]["xform"] @ _MOONRAY_TO_MITSUBA_CAMERA),
            "sampler": {"type": "independent", "sample_count": s["spp"]},
            "film": {"type": "hdrfilm", "width": s["width"], "height": s["height"], "pixel_format": "rgb",
                     "rfilter": {"type": "box"}},
        },
    }
    for i, l in enumerate(s["lights"]):
        if l["kind"] == "rect":
            # Mitsuba's rectangle spans [-1, 1]^2 and emits along +Z; the half turn about X
            # makes it emit along the light's -Z, as MoonRay's does.
            xf = l["xform"] @ rotate(180, 1, 0, 0) @ scale(l["width"] / 2, l["height"] / 2, 1)
            d[f"light{i}"] = {"type": "rectangle", "to_world": T(xf),
                              "bsdf": {"type": "null"},
                              "emitter": {"type": "area", "radiance": {"type": "rgb", "value": list(l["radiance"])}}}
        elif "texture" in l:
            # MoonRay's lat-long and Mitsuba's envmap agree without a transform: u = 0 looks
            # towards -Z, 0.25 +X, 0.5 +Z, 0.75 -X, the top row up (+Y). The colour multiplies.
            # Mitsuba's envmap has no `raw` and reads an 8-bit file as sRGB, so it is given
            # the texels as linear floats (k / 255, what MoonRay's EnvLight reads) directly.
            assert l["radiance"][0] == l["radiance"][1] == l["radiance"][2], "envmap scales by one number"
            texels = np.array(l["texture"]["rows"], dtype=np.float32) / 255
            d[f"light{i}"] = {"type": "envmap", "bitmap": mi.Bitmap(texels, mi.Bitmap.PixelFormat.RGB),
                              "scale": l["radiance"][0]}
        else:
            d[f"light{i}"] = {"type": "constant", "radiance": {"type": "rgb", "value": list(l["radiance"])}}
    for i, (geom, mat) in enumerate(s["objects"]):
        if mat["kind"] == "diffuse" and "texture" in mat:
            tex = f"{workdir}/{mat['texture']['file']}"
            with open(tex, "wb") as f:
                f.write(_png(mat["texture"]["rows"]))
            bsdf = {"type": "diffuse", "reflectance": {"type": "bitmap", "filename": tex, "raw": True,
                                                        "filter_type": "bilinear", "wrap_mode": "repeat"}}
        elif mat["kind"] == "diffuse":
            bsdf = {"type": "diffuse", "reflectance": {"type": "rgb", "value": list(mat["albedo"])}}
        elif mat["kind"] == "metal":
            eta, k = _artist_friendly_ior(mat["color"], mat["color"])
            bsdf = {"type": "conductor" if mat["roughness"] == 0.0 else "roughconductor",
                    "eta": {"type": "rgb", "value": eta}, "k": {"type": "rgb", "value": k}}
            if mat["roughness"] > 0.0:
                bsdf.update({"distribution": "ggx", "alpha": mat["roughness"] ** 2, "sample_visible": True})
        else:
            bsdf = {"type": "dielectric", "int_ior": mat["ior"], "ext_ior": 1.0}
        if geom["kind"] == "mesh":
            path = f"{workdir}/{name}-geom{i}.obj"
            _write_obj(path, geom)
            shape = {"type": "obj", "filename": path, "face_normals": len(geom["faces"]) == 1}
        elif geom["kind"] == "curves":
            path = f"{workdir}/{name}-geom{i}.txt"
            _write_curves(path, geom)
            shape = {"type": "bsplinecurve", "filename": path}
        elif geom["kind"] == "box":
            sz = geom["size"]
            shape = {"type": "cube", "to_world": T(geom["xform"] @ scale(sz[0] / 2, sz[1] / 2, sz[2] / 2))}
        else:
            shape = {"type": "sphere", "center": list(geom["center"]), "radius": geom["radius"]}
        shape["bsdf"] = bsdf
        d[f"geom{i}"] = shape
    return d

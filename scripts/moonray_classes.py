#!/usr/bin/env python3
"""Writes render/data/classes.json: MoonRay's scene classes with their attributes' names, types,
defaults, aliases and enum values, read from MoonRay's own sources.

Usage: scripts/moonray_classes.py SCENE_RDL2 MOONRAY MOONSHINE MOONSHINE_USD [OUT]
Each argument is a git directory (a clone or bare mirror) of that dreamworksanimation
repository; its HEAD is read with `git show`, never checked out. What is read:
- scene_rdl2 lib/scene/rdl2/*.cc: the built-in classes (SceneVariables, Layer, sets, Metadata,
  RenderOutput, UserData, Joint) and the abstract bases every DSO derives from (Node, Camera,
  Geometry, Light, Material, Map, ...), each `X::declare` and the `Parent` it calls;
- `attributes.cc` of each DSO (`RDL2_DSO_ATTR_DEFINE(rdl2::Base)` ... `declareAttribute<T>`),
  with scene_rdl2's attribute macros (CommonAttributes.h, Macros.h) expanded;
- the `.json` class descriptions of each DSO (moonray's and moonshine's dso/, their
  `directives.include` files), as MoonRay's build turns them into attributes;
- classes a repository once had and later deleted, from the last commit that had them;
- classes MoonRay's documentation lists whose source is not public (DOCS_ONLY below), with
  the attributes their page lists where transcribed (DOCS_ATTRS), else attributes unknown.
Every class and attribute records the repository, commit and file it came from.
"""

import json
import re
import subprocess
import sys

SCALAR_TYPES = {
    "Bool": False, "Int": 0, "Long": 0, "Float": 0.0, "Double": 0.0, "String": "",
    "Rgb": [0.0] * 3, "Rgba": [0.0] * 4, "Vec2f": [0.0] * 2, "Vec2d": [0.0] * 2,
    "Vec3f": [0.0] * 3, "Vec3d": [0.0] * 3, "Vec4f": [0.0] * 4, "Vec4d": [0.0] * 4,
    "Mat4f": [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0],
    "Mat4d": [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0],
    "SceneObject*": None,
}
WIDTH = {"Rgb": 3, "Rgba": 4, "Vec2f": 2, "Vec2d": 2, "Vec3f": 3, "Vec3d": 3,
         "Vec4f": 4, "Vec4d": 4, "Mat4f": 16, "Mat4d": 16, "Color": 3}
NAMED = {"sWhite": [1.0, 1.0, 1.0], "sBlack": [0.0, 0.0, 0.0], "sOne": 1.0, "sZero": 0.0}


# Classes MoonRay's documentation lists (generated there from the plug-ins' definitions) whose
# source is not in the public repositories; their attribute lists are not known here, so the
# loader accepts any attribute on them without a warning.
DOCS = "OpenMoonRay/openmoonray-docs@{}:docs/user-reference/scene-objects/{}.md"
DOCS_ONLY = [
    ("NoiseMap", "Map", DOCS.format("1bb9e1c70153", "maps/NoiseMap")),
    ("NoiseWorleyMap", "Map", DOCS.format("56443704d476", "maps/NoiseWorleyMap")),
    ("NoiseWorleyMap_v3", "Map", DOCS.format("d9c33cd2460d", "maps/NoiseWorleyMap_v3")),
    ("LayerMap_v2", "Map", DOCS.format("abd3e88f5cfb", "maps/LayerMap_v2")),
    ("LcToRgbMap", "Map", DOCS.format("77489e9c809c", "maps/LcToRgbMap")),
    ("ContactSheetDisplayFilter", "DisplayFilter",
     DOCS.format("fec439a405cf", "display-filters/ContactSheetDisplayFilter")),
]

# Attributes of documented classes as their documentation page lists them (name, type,
# default, enum labels in value order); the page gives no aliases.
SPACES = ["render", "camera", "world", "screen", "object", "reference", "texture",
          "input texture coordinates", "hair_surface_uv", "hair_closest_surface_uv"]
DOCS_ATTRS = {
    "NoiseMap": [
        ("time", "Float", 0.0), ("use_4D_noise", "Bool", False),
        ("bias", "Float", 0.5), ("gain", "Float", 0.5), ("invert", "Bool", False),
        ("smoothstep", "Vec2f", [0.0, 1.0]), ("use_smoothstep", "Bool", False),
        ("flow_advection_rate", "Float", 0.0), ("flow_angle", "Float", 0.0),
        ("camera", "SceneObject*", None),
        ("input_texture_coordinates", "Vec3f", [0.0, 0.0, 0.0]),
        ("object_space", "SceneObject*", None),
        ("space", "Int", 0, SPACES),
        ("rotation", "Vec3f", [0.0, 0.0, 0.0]),
        ("rotation_order", "Int", 0, ["xyz", "xzy", "yxz", "yzx", "zxy", "zyx"]),
        ("scale", "Vec3f", [1.0, 1.0, 1.0]),
        ("transformation_order", "Int", 4, ["srt", "str", "rst", "rts", "tsr", "trs"]),
        ("translation", "Vec3f", [0.0, 0.0, 0.0]),
        ("amplitude", "Float", 1.0), ("color", "Bool", False),
        ("color_A", "Rgb", [0.0, 0.0, 0.0]), ("color_B", "Rgb", [1.0, 1.0, 1.0]),
        ("distortion", "Float", 0.0),
        ("distortion_noise_type", "Int", 0, ["perlin classic", "perlin simplex"]),
        ("frequency_multiplier", "Float", 1.0), ("lacunarity", "Float", 2.0),
        ("max_level", "Float", 1.0),
        ("noise_type", "Int", 0, ["perlin classic", "perlin simplex"]),
        ("persistence", "Float", 0.5), ("seed", "Int", 0),
    ],
    "NoiseWorleyMap_v3": [
        ("bias", "Float", 0.5), ("gain", "Float", 0.5), ("invert", "Bool", False),
        ("point_size", "Float", 1.0), ("remap", "Vec2f", [0.0, 1.0]),
        ("smoothstep", "Vec2f", [0.0, 1.0]), ("use_smoothstep", "Bool", False),
        ("F1", "Float", 1.0), ("F2", "Float", 0.0), ("F3", "Float", 0.0), ("F4", "Float", 0.0),
        ("cell_id", "Int", 0, ["f1", "f2", "f3", "f4"]),
        ("distance_method", "Int", 0,
         ["linear", "linear squared", "manhattan", "chebyshev", "quadratic", "minkowski"]),
        ("minkowski_number", "Float", 3.0),
        ("output_mode", "Int", 0, ["distance", "gradient", "cell id", "cell edges", "points"]),
        ("camera", "SceneObject*", None),
        ("input_texture_coordinates", "Vec3f", [0.0, 0.0, 0.0]),
        ("object_space", "SceneObject*", None),
        ("space", "Int", 2, SPACES),
        ("rotation", "Vec3f", [0.0, 0.0, 0.0]),
        ("rotation_order", "Int", 0, ["xyz", "xzy", "yxz", "yzx", "zxy", "zyx"]),
        ("scale", "Vec3f", [1.0, 1.0, 1.0]),
        ("transformation_order", "Int", 4, ["srt", "str", "rst", "rts", "tsr", "trs"]),
        ("translation", "Vec3f", [0.0, 0.0, 0.0]),
        ("color_A", "Rgb", [0.0, 0.0, 0.0]), ("color_B", "Rgb", [1.0, 1.0, 1.0]),
        ("frequency", "Float", 1.0), ("jitter", "Float", 1.0), ("max_level", "Float", 1.0),
        ("seed", "Int", 0),
    ],
}


class Repo:
    def __init__(self, label, gitdir):
        self.label, self.gitdir = label, gitdir
        self.commit = self.git("rev-parse", "HEAD").strip()

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", self.gitdir, *args], check=True,
                              capture_output=True, text=True, errors="replace").stdout

    def files(self, rev="HEAD"):
        return self.git("ls-tree", "-r", "--name-only", rev).splitlines()

    def show(self, path, rev=None):
        return self.git("show", f"{rev or self.commit}:{path}")

    def where(self, path, rev=None):
        return f"{self.label}@{(rev or self.commit)[:12]}:{path}"


def strip_comments(text):
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def macros(text):
    """No-argument `#define NAME body` macros, continuation lines joined."""
    found = {}
    for m in re.finditer(r"^[ \t]*#define[ \t]+(\w+)[ \t]*((?:.*\\\n)*.*)$", text, re.M):
        body = m.group(2).replace("\\\n", "\n")
        if "declareAttribute" in body or "setEnumValue" in body:
            found[m.group(1)] = body
    return found


def expand(text, table):
    for _ in range(3):
        text = re.sub(r"\b(" + "|".join(map(re.escape, table)) + r")\b",
                      lambda m: table[m.group(1)], text) if table else text
    return text


def enums(text):
    """Enumerator values of `enum [class] Name [: T] { A = 0, B, ... }`, by plain and qualified name."""
    table = {}
    for m in re.finditer(r"\benum\s+(?:class\s+|struct\s+)?(\w*)\s*(?::\s*[\w:]+\s*)?\{([^}]*)\}", text):
        name, value = m.group(1), -1
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            key, _, expr = item.partition("=")
            key = key.strip()
            try:
                value = int(expr.strip(), 0) if expr.strip() else value + 1
            except ValueError:
                value = table.get(expr.strip(), value + 1)
            table.setdefault(key, value)
            if name:
                table[f"{name}::{key}"] = value
    return table


def split_args(s):
    """Splits at top-level commas (outside brackets, braces, parentheses and strings)."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def balanced(text, i, open_c, close_c):
    """The text between text[i] == open_c and its matching close_c, and the index after it."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == '"':
            j += 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
        elif c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return text[i + 1:], len(text)


def norm_type(t):
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"^(?:::)?(?:scene_rdl2::)?(?:rdl2::)?", "", t)
    return {"float": "Float", "SceneObject": "SceneObject*"}.get(t, t)


def c_string(s):
    pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', s)
    return "".join(p.encode().decode("unicode_escape") for p in pieces)


def number(s, consts):
    s = s.strip()
    s = re.sub(r"^\((?:int|float|double|long|unsigned)\)\s*", "", s)
    m = re.fullmatch(r"(?:\w+)\((.*)\)", s)
    if m and re.match(r"(Float|Double|Int|Long|float|double|int)\(", s):
        s = m.group(1).strip()
    try:
        return int(s, 0)
    except ValueError:
        pass
    try:
        return float(re.sub(r"(?<=[0-9.])[fFdD]$", "", s))
    except ValueError:
        pass
    if s.startswith("-"):
        v = number(s[1:], consts)
        return -v if isinstance(v, (int, float)) else None
    key = re.sub(r"^(?:\w+::)*?(?=\w+::\w+$|\w+$)", "", s)
    for k in (key, key.split("::")[-1]):
        if k in consts:
            return consts[k]
    if key.split("::")[-1] in NAMED and not isinstance(NAMED[key.split("::")[-1]], list):
        return NAMED[key.split("::")[-1]]
    return None


def value(expr, typ, consts):
    """The JSON value of a C++ default expression for attribute type `typ`; None if unknown."""
    e = expr.strip()
    e = re.sub(r"^(?:\w+::)*(?:Bool|Int|Long|Float|Double|String)\((.*)\)$", r"\1", e)
    if re.fullmatch(r"(?:\w+::)*\w+Vector\(\)", e):
        e = "{}"
    if typ == "Bool":
        return {"true": True, "false": False}.get(e.lower())
    if typ == "String":
        return c_string(e) if e.startswith('"') else ("" if e in ("std::string()", '""') else None)
    if typ == "SceneObject*":
        return None
    if typ.endswith("Vector") or typ == "SceneObjectIndexable":
        if e.startswith("{"):
            inner = split_args(e[1:-1])
            elem = typ[:-len("Vector")] if typ.endswith("Vector") else "SceneObject*"
            elem = "SceneObject*" if elem == "SceneObject" else elem
            vals = [value(x, elem, consts) for x in inner]
            return None if any(v is None for v in vals) else vals
        return [] if e in ("{}", "") else None
    if typ in WIDTH:
        name = e.split("::")[-1]
        if name in NAMED and isinstance(NAMED[name], list):
            return NAMED[name][:WIDTH[typ]] + [1.0] * (WIDTH[typ] - 3)
        m = re.fullmatch(r"(?:[\w:]+)\s*\((.*)\)", e, re.S) or re.fullmatch(r"\{(.*)\}", e, re.S)
        if not m:
            n = number(e, consts)
            return None if n is None else [float(n)] * WIDTH[typ]
        args = [number(a, consts) for a in split_args(m.group(1))]
        if any(a is None for a in args):
            return None
        if len(args) == 1:
            args = args * WIDTH[typ]
        return [float(a) for a in args] if len(args) == WIDTH[typ] else None
    v = number(e, consts)
    if v is None:
        return None
    if typ in ("Float", "Double"):
        return float(v)
    return int(v) if typ in ("Int", "Long") and float(v).is_integer() else v


class Class:
    def __init__(self, name, base, source, kind="dso"):
        self.name, self.base, self.source, self.kind = name, base, source, kind
        self.attrs, self.by_var = [], {}

    def add(self, attr, var=None):
        if any(a["name"] == attr["name"] for a in self.attrs):
            return
        self.attrs.append(attr)
        if var:
            self.by_var[var] = attr

    def out(self):
        if self.kind == "documented" and not self.attrs:
            return {"name": self.name, "base": self.base, "kind": self.kind,
                    "source": self.source, "attributes": None}
        attrs = [{k: v for k, v in a.items() if k != "from" or v != self.source}
                 for a in self.attrs]
        d = {"name": self.name, "base": self.base, "kind": self.kind, "source": self.source,
             "attributes": attrs}
        return {k: v for k, v in d.items() if v is not None}


def cpp_attributes(cls, text, consts, where):
    """Adds every `declareAttribute<T>(...)` and `setEnumValue(...)` in text to cls."""
    for m in re.finditer(r"(?:(\w+)\s*=\s*)?(?:\w+\s*(?:\.|->)\s*)?declareAttribute\s*<", text):
        typ, j = balanced(text, m.end() - 1, "<", ">")
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text) or text[j] != "(":
            continue
        args, _ = balanced(text, j, "(", ")")
        args = split_args(args)
        if not args or not args[0].startswith('"'):
            continue
        typ = norm_type(typ)
        attr = {"name": c_string(args[0]), "type": typ}
        rest, aliases, flags, default = args[1:], [], [], None
        for a in rest:
            if a.startswith("{") and '"' in a:
                aliases = [c_string(x) for x in split_args(a[1:-1])]
            elif re.search(r"\b(FLAGS_|INTERFACE_)", a):
                flags += [f for f in re.findall(r"FLAGS_\w+", a) if f != "FLAGS_NONE"]
            elif default is None:
                default = a
        if default is not None:
            v = value(default, typ, consts)
            if v is None and not (typ == "SceneObject*" and default in ("nullptr", "NULL", "0")):
                attr["default_cpp"] = default
            attr["default"] = v
        else:
            attr["default"] = SCALAR_TYPES.get(typ, [] if typ.endswith("Vector") else None)
        if aliases:
            attr["aliases"] = aliases
        if flags:
            attr["flags"] = flags
        attr["from"] = where
        cls.add(attr, m.group(1))
    for m in re.finditer(r"setEnumValue\s*\(", text):
        args, _ = balanced(text, m.end() - 1, "(", ")")
        args = split_args(args)
        if len(args) == 3 and args[0] in cls.by_var and args[2].startswith('"'):
            v = number(args[1], consts)
            if v is not None:
                cls.by_var[args[0]].setdefault("enum", {})[c_string(args[2])] = int(v)


def builtins(rdl2, consts, table):
    """scene_rdl2's abstract bases and built-in classes, each `X::declare` with its `Parent`."""
    classes, parents = {}, {}
    files = [f for f in rdl2.files() if f.startswith("lib/scene/rdl2/") and f.count("/") == 3]
    for f in files:
        if f.endswith(".h"):
            for m in re.finditer(r"\bclass\s+(?:\w+\s+)?(\w+)\s*(?:final\s*)?:\s*public\s+(\w+)", rdl2.show(f)):
                parents.setdefault(m.group(1), m.group(2))
    built_in = re.findall(r'createBuiltInSceneClass<\w+>\("(\w+)"\)', rdl2.show("lib/scene/rdl2/SceneContext.cc"))
    for f in files:
        if not f.endswith(".cc"):
            continue
        text = expand(strip_comments(rdl2.show(f)), table)
        for m in re.finditer(r"\b(\w+)::declare\s*\(\s*SceneClass\s*&\s*\w*\s*\)\s*\{", text):
            name = m.group(1)
            body, _ = balanced(text, m.end() - 1, "{", "}")
            base = parents.get(name)
            cls = Class(name, base if base and base != name else None, rdl2.where(f),
                        "builtin" if name in built_in else "base")
            cpp_attributes(cls, body, consts, rdl2.where(f))
            classes[name] = cls
    # Bases with no attributes of their own still belong to the chain (Shader, RootShader...).
    for name, base in parents.items():
        if name not in classes and (name in parents.values() or name in built_in) and base in classes | parents.keys():
            classes[name] = Class(name, base, rdl2.where("lib/scene/rdl2/" + name + ".h"), "base")
    return classes


def dso_cpp(repo, path, text, consts, table, rev=None):
    text = expand(strip_comments(text), table)
    m = re.search(r"RDL2_DSO_ATTR_DEFINE\s*\(\s*(?:\w+::)*(\w+)\s*\)", text)
    if not m:
        return None
    # The class is the one `RDL2_DSO_CLASS_BEGIN(Name, Base)` defines beside attributes.cc.
    name = path.split("/")[-2]
    folder = path.rsplit("/", 1)[0] + "/"
    for f in repo.files(rev or "HEAD"):
        if f.startswith(folder) and f.count("/") == path.count("/") and f.endswith(".cc"):
            found = re.search(r"RDL2_DSO_CLASS_BEGIN\s*\(\s*(\w+)", repo.show(f, rev))
            if found:
                name = found.group(1)
                break
    cls = Class(name, m.group(1), repo.where(path, rev))
    cpp_attributes(cls, text, consts, repo.where(path, rev))
    return cls


def multi(attributes):
    """A `"multi": "N"` attribute is N attributes, `name0`..`name{N-1}` (aliases numbered the
    same way), as moonray's bart_tools/ispc_dso.py generates them."""
    for key, a in attributes.items():
        if "multi" not in a:
            yield key, a
            continue
        for i in range(int(a["multi"])):
            b = dict(a, name=a.get("name", key) + str(i))
            if a.get("aliases"):
                b["aliases"] = [x + str(i) for x in a["aliases"]]
            yield key + str(i), b


def dso_json(repo, path, text, consts, repos, rev=None):
    d = json.loads(text)
    # MoonRay names the DSO after its file (OpenVdbMap_v2.json says "name": "OpenVdbMap").
    cls = Class(path.rsplit("/", 1)[-1][:-5], norm_type(d.get("type", "SceneObject")).rstrip("*"), repo.where(path, rev))
    parts = [(d, path, repo)]
    for inc in d.get("directives", {}).get("include", []):
        for r in [repo] + [x for x in repos if x is not repo]:
            try:
                parts.append((json.loads(r.show(inc, rev if r is repo else None)), inc, r))
                break
            except subprocess.CalledProcessError:
                continue
        else:
            print(f"warning: {path}: include {inc} not found", file=sys.stderr)
    for part, where, r in parts:
        for key, a in multi(part.get("attributes", {})):
            typ = norm_type(a.get("type", "String"))
            attr = {"name": a.get("name", key), "type": typ}
            if "default" in a:
                v = value(str(a["default"]), typ, consts)
                if v is None and typ != "SceneObject*":
                    attr["default_cpp"] = str(a["default"])
                attr["default"] = v
            else:
                attr["default"] = SCALAR_TYPES.get(typ, [] if typ.endswith("Vector") else None)
            if a.get("aliases"):
                attr["aliases"] = a["aliases"]
            flags = [f for f in re.findall(r"FLAGS_\w+", str(a.get("flags", ""))) if f != "FLAGS_NONE"]
            if flags:
                attr["flags"] = flags
            if isinstance(a.get("enum"), dict):
                e = {}
                for label, v in a["enum"].items():
                    n = number(str(v), consts)
                    if n is not None:
                        e[label] = int(n)
                attr["enum"] = e
            attr["from"] = r.where(where, rev if r is repo else None)
            cls.add(attr)
    return cls


def dso_classes(repo, consts, table, repos, rev=None):
    out = {}
    for f in repo.files(rev or "HEAD"):
        if not f.startswith("dso/") or "/tests/" in f:
            continue
        try:
            if f.endswith("/attributes.cc"):
                cls = dso_cpp(repo, f, repo.show(f, rev), consts, table, rev)
            elif f.endswith(".json"):
                cls = dso_json(repo, f, repo.show(f, rev), consts, repos, rev)
            else:
                continue
        except (json.JSONDecodeError, KeyError) as e:
            print(f"warning: {f}: {e}", file=sys.stderr)
            continue
        if cls:
            out[cls.name] = cls
    return out


def deleted_classes(repo, consts, table, repos, have):
    """Classes a repository deleted, read at the parent of the commit that deleted them."""
    out = {}
    log = repo.git("log", "--diff-filter=D", "--format=%H", "--name-only", "HEAD", "--", "dso")
    commit = None
    for line in log.splitlines():
        if re.fullmatch(r"[0-9a-f]{40}", line):
            commit = line
            continue
        if not line or not (line.endswith("/attributes.cc") or line.endswith(".json")):
            continue
        name = line.split("/")[-1][:-5] if line.endswith(".json") else line.split("/")[-2]
        if name in have or name in out or "/tests/" in line:
            continue
        rev = repo.git("rev-parse", commit + "^").strip()
        text = repo.show(line, rev)
        try:
            cls = (dso_json(repo, line, text, consts, repos, rev) if line.endswith(".json")
                   else dso_cpp(repo, line, text, consts, table, rev))
        except (json.JSONDecodeError, KeyError):
            continue
        if cls and cls.name not in have:
            cls.kind = f"removed in {repo.label}@{commit[:12]}"
            out[cls.name] = cls
    return out


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    rdl2, moonray, moonshine, usd = (Repo(l, p) for l, p in zip(
        ["scene_rdl2", "moonray", "moonshine", "moonshine_usd"], sys.argv[1:5]))
    out_path = sys.argv[5] if len(sys.argv) > 5 else "render/data/classes.json"
    repos = [moonray, moonshine, rdl2, usd]
    headers = "\n".join(strip_comments(rdl2.show(f)) for f in rdl2.files()
                        if f.startswith("lib/scene/rdl2/") and f.endswith(".h"))
    table = macros(headers)
    consts = enums(headers)
    consts.update(INT_MAX=2**31 - 1, INT_MIN=-2**31)
    classes = builtins(rdl2, consts, table)
    for repo in (moonray, moonshine, usd):
        for name, cls in dso_classes(repo, consts, table, repos).items():
            classes.setdefault(name, cls)
    for repo in (moonray, moonshine, usd):
        classes.update(deleted_classes(repo, consts, table, repos, classes))
    for name, base, source in DOCS_ONLY:
        if name in classes:
            continue
        cls = Class(name, base, source, "documented")
        for a in DOCS_ATTRS.get(name, []):
            attr = {"name": a[0], "type": a[1], "default": a[2]}
            if len(a) > 3:
                attr["enum"] = {label: i for i, label in enumerate(a[3])}
            cls.add(attr)
        if name in DOCS_ATTRS:
            cls.kind = "dso"
        classes[name] = cls
    for cls in classes.values():
        if cls.base and cls.base not in classes:
            print(f"warning: {cls.name}: unknown base {cls.base}", file=sys.stderr)
    data = {
        "comment": "MoonRay's scene classes, written by scripts/moonray_classes.py from the "
                   "sources named below; do not edit by hand. Each class has a base whose "
                   "attributes it inherits; `from` is repository@commit:file.",
        "sources": {r.label: f"github.com/dreamworksanimation/{r.label}@{r.commit}" for r in repos},
        "classes": [classes[k].out() for k in sorted(classes)],
    }
    with open(out_path, "w") as f:
        f.write("{\n")
        f.write(f' "comment": {json.dumps(data["comment"])},\n')
        f.write(f' "sources": {json.dumps(data["sources"])},\n')
        f.write(' "classes": [\n')
        for i, c in enumerate(data["classes"]):
            head = {k: v for k, v in c.items() if k != "attributes"}
            if c["attributes"] is None:
                f.write("  " + json.dumps(c))
            else:
                f.write("  " + json.dumps(head)[:-1] + ', "attributes": [')
                f.write(",".join("\n   " + json.dumps(a) for a in c["attributes"]) + "]}")
            f.write(("," if i + 1 < len(data["classes"]) else "") + "\n")
        f.write(" ]\n}\n")
    n = sum(1 for c in classes.values() if c.kind != "base")
    print(f"{out_path}: {n} classes ({len(classes)} with bases), "
          f"{sum(len(c.attrs) for c in classes.values())} attributes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Renders each comparison scene with Moonfarm's renderer and with Mitsuba 3, and prints how
close and how fast ours is.

    python3 bench/compare.py [--scenes cornell,glass] [--spp 64] [--ref-spp 4096] [--no-llvm]
                             [--adaptive-errors 20,15,...,1] [--adaptive-max 1024]

Per scene: the image mean of ours over the reference's, the per-pixel MAE of ours and of
Mitsuba (scalar_rgb) at the same spp against a high-spp Mitsuba reference (rendered once and
cached under target/bench/ref/), and wall and CPU time of ours over Mitsuba's, for scalar_rgb
and llvm_ad_rgb. Then, for adaptive sampling (`--adaptive-error E`, MoonRay's sampling_mode
2; `--adaptive-errors ''` skips it), per scene: the samples per pixel and the CPU time ours
needs to reach the MAE of Mitsuba's render at --spp and the MAE of our own uniform render at
--spp, found by rendering at each target error of --adaptive-errors (largest first, stopping
once both MAEs are reached) and keeping the cheapest render that reaches each. Times are of whole processes (start, scene load, render, write) for both,
the fastest of --repeat interleaved runs; Mitsuba's render-only time is shown beside them. Needs `cargo build --release -p producer`
first. Installs Mitsuba, numpy and OpenEXR into target/mitsuba-venv on first use. Not part of
CI: it takes minutes.
"""
import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
VENV = os.path.join(ROOT, "target", "mitsuba-venv")
VENV_PY = os.path.join(VENV, "bin", "python")
LLVM_CANDIDATES = ["/usr/lib/x86_64-linux-gnu/libLLVM-19.so", "/usr/lib/llvm-19/lib/libLLVM.so"]
sys.path.insert(0, os.path.join(ROOT, "bench"))


def ensure_venv():
    """Re-runs this script inside target/mitsuba-venv, creating it first when missing."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PY):
        print("compare: installing mitsuba, numpy and OpenEXR into target/mitsuba-venv", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([VENV_PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "mitsuba", "numpy", "OpenEXR"])
    os.execv(VENV_PY, [VENV_PY] + sys.argv)


def llvm_path():
    if os.environ.get("DRJIT_LIBLLVM_PATH"):
        return os.environ["DRJIT_LIBLLVM_PATH"]
    return next((p for p in LLVM_CANDIDATES if os.path.exists(p)), None)


def timed(cmd, env=None, cwd=None):
    """Runs a command; returns (wall seconds, CPU seconds of it and its children, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"compare: {' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout + p.stderr


# ----------------------------------------------------------------------------- Mitsuba side


def render_mitsuba(variant, name, spp, seeds, out):
    """Runs in a child process: renders `name` with `spp` samples per seed, averages over the
    seeds, saves an (H, W, 3) float32 .npy and prints the render-only seconds as JSON."""
    import mitsuba as mi
    import numpy as np
    import scenes

    mi.set_variant(variant)
    work = os.path.join(TARGET, "bench", "mitsuba")
    os.makedirs(work, exist_ok=True)
    scene = mi.load_dict(scenes.mitsuba_dict(scenes.SCENES[name], mi, work, name))
    t0 = time.perf_counter()
    acc = None
    for seed in seeds:
        img = np.array(mi.render(scene, spp=spp, seed=seed), dtype=np.float64)[:, :, :3]
        acc = img if acc is None else acc + img
    render_s = time.perf_counter() - t0
    np.save(out, (acc / len(seeds)).astype(np.float32))
    print(json.dumps({"render_s": render_s}))


def mitsuba_env(variant):
    env = dict(os.environ)
    if variant.startswith("llvm"):
        env["DRJIT_LIBLLVM_PATH"] = llvm_path()
    return env


def mitsuba(variant, name, spp, seeds, out):
    cmd = [sys.executable, os.path.abspath(__file__), "--render-mitsuba", variant, name, str(spp),
           ",".join(map(str, seeds)), out]
    wall, cpu, stdout = timed(cmd, mitsuba_env(variant))
    return wall, cpu, json.loads(stdout.strip().splitlines()[-1])["render_s"]


# ----------------------------------------------------------------------------- our side


def read_exr_rgb(path):
    import numpy as np
    import OpenEXR

    with OpenEXR.File(path, separate_channels=True) as f:
        ch = f.channels()
        return np.stack([ch[c].pixels for c in "RGB"], axis=-1).astype(np.float32)


def write_png(path, rgb):
    """An sRGB PNG to look at, next to the numbers."""
    import mitsuba as mi
    import numpy as np

    if not mi.variant():
        mi.set_variant("scalar_rgb")
    bmp = mi.Bitmap(np.ascontiguousarray(rgb, dtype=np.float32), mi.Bitmap.PixelFormat.RGB)
    bmp.convert(mi.Bitmap.PixelFormat.RGB, mi.Struct.Type.UInt8, True).write(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", default="cornell,metal,glass,envlight,texture,envmap,curves")
    ap.add_argument("--spp", type=int, default=64)
    ap.add_argument("--ref-spp", type=int, default=4096)
    ap.add_argument("--no-llvm", action="store_true", help="skip the llvm_ad_rgb timing")
    ap.add_argument("--repeat", type=int, default=3,
                    help="time each renderer this many times, interleaved, and keep the fastest (the machine is shared)")
    ap.add_argument("--adaptive-errors", default="20,15,10,7,5,4,3,2,1.5,1",
                    help="target errors (MoonRay's target_adaptive_error) to try for adaptive sampling; '' skips it")
    ap.add_argument("--adaptive-max", type=int, default=1024,
                    help="max samples per pixel of the adaptive renders (--spp of `producer submit --adaptive-error`)")
    ap.add_argument("--adaptive-tile-size", type=int, default=64,
                    help="tile edge of the adaptive renders: the regions whose passes stop together")
    ap.add_argument("--adaptive-repeat", type=int, default=1,
                    help="time each adaptive render this many times and keep the fastest")
    args = ap.parse_args()
    errors = [float(e) for e in args.adaptive_errors.split(",") if e.strip()]
    import numpy as np
    import scenes

    producer = os.path.join(TARGET, "release", "producer")
    if not os.path.exists(producer):
        sys.exit(f"compare: {producer} is missing: run `cargo build --release -p producer` first")
    use_llvm = not args.no_llvm and llvm_path() is not None
    if not args.no_llvm and not use_llvm:
        print("compare: no libLLVM 19 found (apt-get install -y libllvm19): skipping llvm_ad_rgb", file=sys.stderr)
    bench = os.path.join(TARGET, "bench")
    os.makedirs(os.path.join(bench, "ref"), exist_ok=True)
    rows = []
    for name in args.scenes.split(","):
        s = scenes.SCENES[name]
        if args.spp != s["spp"]:
            s = dict(s, spp=args.spp)
        text = scenes.rdla(s)
        rdla_path = os.path.join(ROOT, "bench", "scenes", f"{name}.rdla")
        if s["spp"] == scenes.SCENES[name]["spp"]:
            with open(rdla_path, "w") as f:
                f.write(text)
        else:
            rdla_path = os.path.join(bench, f"{name}.rdla")
            with open(rdla_path, "w") as f:
                f.write(text)
        scenes.write_textures(s, os.path.dirname(rdla_path))

        # The reference: many seeds of 256 spp, keyed by the scene's text and the sample count.
        # A texture's texels are not in the text: they are keyed too.
        textures = "".join(repr(x["texture"]) for x in [m for _, m in s["objects"]] + s["lights"] if "texture" in x)
        key = hashlib.sha256((text + textures + str(args.ref_spp)).encode()).hexdigest()[:12]
        ref_path = os.path.join(bench, "ref", f"{name}-{key}.npy")
        if not os.path.exists(ref_path):
            print(f"compare: {name}: rendering the {args.ref_spp} spp Mitsuba reference (once)", file=sys.stderr)
            chunk = min(256, args.ref_spp)
            seeds = list(range(1000, 1000 + args.ref_spp // chunk))
            mitsuba("llvm_ad_rgb" if use_llvm else "scalar_rgb", name, chunk, seeds, ref_path)
        ref = np.load(ref_path).astype(np.float64)

        ours_path = os.path.join(bench, f"{name}-ours.exr")
        ms_path = os.path.join(bench, f"{name}-scalar.npy")
        env = dict(os.environ, MOONFARM_LOG="render=debug")
        runs = {"ours": [], "scalar": [], "llvm": []}
        for _ in range(max(1, args.repeat)):
            o_wall, o_cpu, log = timed([producer, "submit", rdla_path, "-o", ours_path, "--spp", str(args.spp), "--passes", "1"], env,
                                  # A scene's relative texture paths are read from the working directory, as MoonRay does.
                                  os.path.dirname(rdla_path))
            runs["ours"].append((o_wall, o_cpu))
            runs["scalar"].append(mitsuba("scalar_rgb", name, args.spp, [0], ms_path))
            if use_llvm:
                runs["llvm"].append(mitsuba("llvm_ad_rgb", name, args.spp, [0], os.path.join(bench, f"{name}-llvm.npy")))
        rays = sum(int(n) for n in re.findall(r"rays=(\d+)", re.sub(r"\x1b\[[0-9;]*m", "", log)))
        best = lambda rs: [min(r[i] for r in rs) for i in range(len(rs[0]))]  # noqa: E731
        o_wall, o_cpu = best(runs["ours"])
        s_wall, s_cpu, s_render = best(runs["scalar"])
        ours = read_exr_rgb(ours_path).astype(np.float64)
        theirs = np.load(ms_path).astype(np.float64)
        row = {
            "scene": name,
            "mean_ratio": ours.mean() / ref.mean(),
            "mts_mean_ratio": theirs.mean() / ref.mean(),
            "mae_ours": np.abs(ours - ref).mean(),
            "mae_mts": np.abs(theirs - ref).mean(),
            "ours_wall": o_wall, "ours_cpu": o_cpu, "mrays_per_cpu_s": rays / o_cpu / 1e6,
            "scalar_wall": s_wall, "scalar_cpu": s_cpu, "scalar_render": s_render,
        }
        if use_llvm:
            l_wall, l_cpu, l_render = best(runs["llvm"])
            row.update(llvm_wall=l_wall, llvm_cpu=l_cpu, llvm_render=l_render)
        write_png(os.path.join(bench, f"{name}-ours.png"), ours)
        write_png(os.path.join(bench, f"{name}-ref.png"), ref)
        if errors:
            # The MAEs to reach: Mitsuba's at --spp (scalar_rgb, seed 0) and our own uniform one.
            targets = {"mts": row["mae_mts"], "ours": row["mae_ours"]}
            row["adaptive_runs"], row["adaptive_best"] = adaptive_search(
                producer, name, rdla_path, ref, targets, errors, args.adaptive_max, args.adaptive_repeat,
                args.adaptive_tile_size)
            row["spp"] = args.spp
        rows.append(row)
        print_row(row, header=len(rows) == 1)
    for i, row in enumerate(r for r in rows if "adaptive_best" in r):
        print_adaptive(row, header=i == 0)
    with open(os.path.join(bench, "compare.json"), "w") as f:
        json.dump(rows, f, indent=1)


def read_exr_weight(path):
    """The EXR's `weight` channel: the samples each pixel took."""
    import numpy as np
    import OpenEXR

    with OpenEXR.File(path, separate_channels=True) as f:
        return np.asarray(f.channels()["weight"].pixels, dtype=np.float64)


def adaptive_search(producer, name, rdla_path, ref, targets, errors, max_spp, repeat, tile_size):
    """Renders `name` adaptively at each target error in `errors` (largest first) until every
    MAE in `targets` ({label: MAE}) is reached. Returns the runs ({error, mae, spp, cpu, wall})
    and, per target label, the cheapest run (least CPU) whose MAE is at most the target, or
    None when no error tried reaches it."""
    import numpy as np

    bench = os.path.join(TARGET, "bench")
    runs = []
    for e in sorted(errors, reverse=True):
        out = os.path.join(bench, f"{name}-adaptive-{e:g}.exr")
        cmd = [producer, "submit", rdla_path, "-o", out, "--spp", str(max_spp), "--adaptive-error", f"{e:g}",
               "--tile-size", str(tile_size)]
        timings = [timed(cmd, None, os.path.dirname(rdla_path))[:2] for _ in range(max(1, repeat))]
        wall, cpu = min(t[0] for t in timings), min(t[1] for t in timings)
        img = read_exr_rgb(out).astype(np.float64)
        run = {"error": e, "mae": float(np.abs(img - ref).mean()), "spp": float(read_exr_weight(out).mean()),
               "cpu": cpu, "wall": wall}
        runs.append(run)
        print(f"compare: {name}: adaptive error {e:g}: MAE {run['mae']:.5f}, {run['spp']:.1f} spp, "
              f"{cpu:.2f} CPU s", file=sys.stderr)
        if all(run["mae"] <= t for t in targets.values()):
            break
    best = {}
    for label, t in targets.items():
        ok = [r for r in runs if r["mae"] <= t]
        best[label] = min(ok, key=lambda r: r["cpu"]) if ok else None
    return runs, best


def print_adaptive(r, header):
    if header:
        print(f"\n{'adaptive':10} {'to reach':>12} {'MAE':>9} | {'error':>6} {'spp':>7} {'cpu s':>7} "
              f"{'x uniform cpu':>13} {'x mts cpu':>9}")
    for label in ("mts", "ours"):
        b = r["adaptive_best"][label]
        target = r["mae_mts"] if label == "mts" else r["mae_ours"]
        what = f"{label} {r['spp']} spp"
        if b is None:
            print(f"{r['scene']:10} {what:>12} {target:9.5f} | not reached with the errors tried", flush=True)
            continue
        line = (f"{r['scene']:10} {what:>12} {target:9.5f} | {b['error']:6g} {b['spp']:7.1f} {b['cpu']:7.2f} "
                f"{b['cpu'] / r['ours_cpu']:13.3f} {b['cpu'] / r['scalar_cpu']:9.3f}")
        if "llvm_cpu" in r:
            line += f"  (x llvm cpu {b['cpu'] / r['llvm_cpu']:.3f})"
        print(line, flush=True)


def print_row(r, header):
    if header:
        print(f"{'scene':10} {'mean/ref':>8} {'mts/ref':>8} {'MAE ours':>9} {'MAE mts':>9} {'MAE x':>6} | "
              f"{'ours wall/cpu s':>15} {'Mray/cpu-s':>10} | {'scalar wall/cpu (render) s':>27} {'wall x':>6} {'cpu x':>6} | "
              f"{'llvm wall/cpu (render) s':>25} {'wall x':>6} {'cpu x':>6}")
    line = (f"{r['scene']:10} {r['mean_ratio']:8.4f} {r['mts_mean_ratio']:8.4f} {r['mae_ours']:9.5f} {r['mae_mts']:9.5f} "
            f"{r['mae_ours'] / r['mae_mts']:6.3f} | {r['ours_wall']:7.2f}/{r['ours_cpu']:7.2f} {r['mrays_per_cpu_s']:10.2f} | "
            f"{r['scalar_wall']:8.2f}/{r['scalar_cpu']:8.2f} ({r['scalar_render']:7.2f}) "
            f"{r['ours_wall'] / r['scalar_wall']:6.3f} {r['ours_cpu'] / r['scalar_cpu']:6.3f} |")
    if "llvm_wall" in r:
        line += (f" {r['llvm_wall']:7.2f}/{r['llvm_cpu']:7.2f} ({r['llvm_render']:7.2f}) "
                 f"{r['ours_wall'] / r['llvm_wall']:6.3f} {r['ours_cpu'] / r['llvm_cpu']:6.3f}")
    print(line, flush=True)


if __name__ == "__main__":
    ensure_venv()
    if len(sys.argv) > 1 and sys.argv[1] == "--render-mitsuba":
        variant, name, spp, seeds, out = sys.argv[2:7]
        render_mitsuba(variant, name, int(spp), [int(x) for x in seeds.split(",")], out)
    else:
        main()

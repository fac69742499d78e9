// Builds m4's Claude Desktop bundle, `m4-<version>-<os>-<arch>.mcpb`, from a built m4
// binary with the official mcpb CLI (pinned in packaging/package.json): stages
// manifest.json (version from Cargo.toml, `compatibility.platforms` set to the one OS),
// the binary and the launcher, then runs `mcpb validate` and `mcpb pack`.
//
// Usage (from anywhere, after `npm ci --prefix packaging`):
//   node packaging/pack.mjs --os linux|darwin|win32 --arch x64|arm64|universal \
//        --binary PATH [--out DIR]
// Prints the bundle's path on its last line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
// The CLI's own script, run with this node: no `.cmd` shim on Windows.
const mcpb = path.join(here, "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js");

function fail(message, hint) {
  console.error(`pack: ${message}${hint ? `\n\nhint: ${hint}` : ""}`);
  process.exit(1);
}

function args(argv) {
  const out = { out: path.join(here, "dist") };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!["os", "arch", "binary", "out"].includes(key) || argv[i + 1] === undefined) {
      fail(`unknown or incomplete argument \`${argv[i]}\``, "see the usage at the top of packaging/pack.mjs");
    }
    out[key] = argv[i + 1];
  }
  for (const key of ["os", "arch", "binary"]) {
    if (!out[key]) fail(`--${key} is required`, "see the usage at the top of packaging/pack.mjs");
  }
  if (!["linux", "darwin", "win32"].includes(out.os)) {
    fail(`--os ${out.os} is not one of linux, darwin, win32`, "use Node's process.platform names");
  }
  return out;
}

function run(script, argv) {
  const result = spawnSync(process.execPath, [script, ...argv], { stdio: "inherit" });
  if (result.status !== 0) fail(`\`mcpb ${argv.join(" ")}\` failed (exit ${result.status})`);
}

const opts = args(process.argv.slice(2));
if (!fs.existsSync(mcpb)) fail(`no mcpb CLI at ${mcpb}`, "run `npm ci --prefix packaging` first");
if (!fs.statSync(opts.binary, { throwIfNoEntry: false })?.isFile()) {
  fail(`no m4 binary at ${opts.binary}`, "build it first: cargo build --release");
}

const cargo = fs.readFileSync(path.join(root, "Cargo.toml"), "utf8");
const version = cargo.match(/^\[package\][^[]*?^version\s*=\s*"([^"]+)"/ms)?.[1];
if (!version) fail("no [package] version in Cargo.toml");

const manifest = JSON.parse(fs.readFileSync(path.join(here, "manifest.json"), "utf8"));
manifest.version = version;
manifest.compatibility = { ...manifest.compatibility, platforms: [opts.os] };
const windows = opts.os === "win32";
const exe = windows ? "m4.exe" : "m4";
manifest.server.entry_point = windows ? "server/m4.exe" : "server/launch.sh";

const stage = fs.mkdtempSync(path.join(os.tmpdir(), "m4-mcpb-"));
try {
  fs.mkdirSync(path.join(stage, "server"));
  fs.writeFileSync(path.join(stage, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.copyFileSync(opts.binary, path.join(stage, "server", exe));
  fs.chmodSync(path.join(stage, "server", exe), 0o755);
  if (!windows) {
    fs.copyFileSync(path.join(here, "launch.sh"), path.join(stage, "server", "launch.sh"));
    fs.chmodSync(path.join(stage, "server", "launch.sh"), 0o755);
  }
  for (const file of ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]) {
    if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(stage, file));
  }
  // `mcpb validate` checks the schema only: check the entry point exists too.
  if (!fs.existsSync(path.join(stage, manifest.server.entry_point))) {
    fail(`the entry point ${manifest.server.entry_point} is missing from the bundle`);
  }
  run(mcpb, ["validate", path.join(stage, "manifest.json")]);
  fs.mkdirSync(opts.out, { recursive: true });
  const bundle = path.join(path.resolve(opts.out), `m4-${version}-${opts.os}-${opts.arch}.mcpb`);
  run(mcpb, ["pack", stage, bundle]);
  console.log(bundle);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}

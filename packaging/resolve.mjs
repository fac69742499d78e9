// Resolves an unpacked bundle's `server.mcp_config` exactly as Claude Desktop does, with
// the resolver the mcpb package exports (`getMcpConfigForManifest`), and prints the
// result as JSON: {"command", "args", "env"}.
//
// Usage: node packaging/resolve.mjs UNPACKED_DIR USER_CONFIG_JSON [--platform win32]
//   USER_CONFIG_JSON is what the user typed in the extension's settings, e.g. '{}' (left
//   everything empty) or '{"data_dir": "/path"}'. --platform pretends to be another OS
//   (the resolver picks `platform_overrides` by process.platform).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";

const [dir, userJson, flag, platform] = process.argv.slice(2);
if (!dir || userJson === undefined) {
  console.error("usage: node packaging/resolve.mjs UNPACKED_DIR USER_CONFIG_JSON [--platform win32]");
  process.exit(2);
}
if (flag === "--platform") Object.defineProperty(process, "platform", { value: platform });

const extensionPath = path.resolve(dir);
const manifest = JSON.parse(fs.readFileSync(path.join(extensionPath, "manifest.json"), "utf8"));
const home = os.homedir();
const config = await getMcpConfigForManifest({
  manifest,
  extensionPath,
  systemDirs: {
    HOME: home,
    DESKTOP: path.join(home, "Desktop"),
    DOCUMENTS: path.join(home, "Documents"),
    DOWNLOADS: path.join(home, "Downloads"),
  },
  userConfig: JSON.parse(userJson),
  pathSeparator: path.sep,
  logger: console,
});
if (!config) {
  console.error("resolve: the host would not start this bundle (a required setting is missing)");
  process.exit(1);
}
console.log(JSON.stringify({ command: config.command, args: config.args ?? [], env: config.env ?? {} }, null, 2));

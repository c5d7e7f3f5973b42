// Builds the widget into dist/: the chat module first (ES module, the phoenix client inside,
// content-hashed), then the launcher (one classic script, which imports the chat on open by
// its hashed name). manifest.json names both, for the API that serves them.
import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { build } from "vite";

const out = process.env.SIMPTU_WIDGET_OUT ?? "dist";
const hashed = (file) => {
  const hash = createHash("sha256").update(readFileSync(`${out}/${file}`)).digest("hex").slice(0, 10);
  const name = file.replace(/\.js$/, `-${hash}.js`);
  renameSync(`${out}/${file}`, `${out}/${name}`);
  return name;
};
const common = { logLevel: "warn", configFile: false, build: { outDir: out, target: "es2020",
                                                               minify: true, reportCompressedSize: false } };

rmSync(out, { recursive: true, force: true });
await build({ ...common, build: { ...common.build, emptyOutDir: false,
  lib: { entry: "src/chat.ts", formats: ["es"], fileName: () => "chat.js" } } });
const chat = hashed("chat.js");
await build({ ...common, define: { __CHAT_FILE__: JSON.stringify(chat) },
  build: { ...common.build, emptyOutDir: false,
    lib: { entry: "src/loader.ts", formats: ["iife"], name: "SimptuWidget", fileName: () => "widget.js" } } });
const loader = hashed("widget.js");
writeFileSync(`${out}/manifest.json`, JSON.stringify({ loader, chat }, null, 2) + "\n");
console.log(`built ${out}: ${loader} ${chat}`);

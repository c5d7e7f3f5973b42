// Builds the inbox into dist/: one ES module and its stylesheet, content-hashed, and
// manifest.json (Vite's) naming them, for the API that writes the page at /inbox/<slug>.
import { build } from "vite";

const out = process.env.SIMPTU_INBOX_OUT ?? "dist";
await build({
  configFile: false, logLevel: "warn", base: "/inbox/assets/",
  build: { outDir: out, emptyOutDir: true, assetsDir: "", target: "es2020", minify: true,
           manifest: "manifest.json", reportCompressedSize: false,
           rollupOptions: { input: "src/main.ts" } },
});
console.log(`built ${out}`);

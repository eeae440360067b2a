// Builds the web console (src/console) into dist/console, which the daemon serves at /console/.
// Run by scripts/build-console.ts from the setup step; file names carry content hashes, so the
// daemon can let browsers cache everything under assets/ for good.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/console/",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../../dist/console", import.meta.url)),
    emptyOutDir: true,
    // The fonts are Cloudscape's, inlined as data URLs: the console works with no network.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
  },
});

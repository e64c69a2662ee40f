// Builds dist/insights.js (the insights page's charts, Chart.js bundled: no CDN), stamped with a hash of its
// sources like the widget's bundle (tests/insights checks it is not older than them).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const web = join(here, "..");
const SOURCES = ["insights/insights.js", "insights/build.mjs", "package.json", "package-lock.json"];

const hash = createHash("sha256");
for (const path of SOURCES) {
  hash.update(`${path}\0`);
  hash.update(readFileSync(join(web, path)));
  hash.update("\0");
}

await build({
  entryPoints: [join(here, "insights.js")],
  outfile: join(web, "dist/insights.js"),
  bundle: true,
  format: "iife",
  target: ["es2019"],
  minify: true,
  legalComments: "eof",
  banner: { js: `/*! insights sources-sha256: ${hash.digest("hex")} */` },
  logLevel: "info",
});

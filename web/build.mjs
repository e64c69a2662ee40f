// Builds dist/widget.js (one self-contained IIFE) and stamps it with a hash of everything it is built from,
// so a test can tell when the committed bundle is older than its sources. Also copies the pinned axe-core to
// dist/axe.min.js, for the widget's accessibility tests only (never served): the tests need no npm and no CDN.
import { build, transform } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const HASH_PREFIX = "/*! chat-widget sources-sha256: ";

/** The files the bundle is made from, as sorted POSIX paths relative to web/. */
function sources() {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [relative(here, join(dir, e.name)).split("\\").join("/")],
    );
  return [...walk(join(here, "src")), "build.mjs", "package.json", "package-lock.json"].sort();
}

/** sha256 over "path\0content\0" of each source; tests/browser/test_bundle.py computes the same. */
export function sourcesHash() {
  const hash = createHash("sha256");
  for (const path of sources()) {
    hash.update(`${path}\0`);
    hash.update(readFileSync(join(here, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** CSS is imported as a string (the widget puts it in its shadow root), minified on the way. */
const cssAsMinifiedText = {
  name: "css-as-minified-text",
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async ({ path }) => {
      const { code } = await transform(readFileSync(path, "utf8"), { loader: "css", minify: true });
      return { contents: code, loader: "text" };
    });
  },
};

await build({
  entryPoints: [join(here, "src/index.js")],
  outfile: join(here, "dist/widget.js"),
  bundle: true,
  format: "iife",
  target: ["es2019"],
  minify: true,
  legalComments: "eof",
  plugins: [cssAsMinifiedText],
  banner: { js: `${HASH_PREFIX}${sourcesHash()} */` },
  logLevel: "info",
});

copyFileSync(join(here, "node_modules/axe-core/axe.min.js"), join(here, "dist/axe.min.js"));

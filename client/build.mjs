// Bundles src/index.js into the static file Django serves. Deterministic: the same sources
// and dependency versions give byte-identical output (tests/test_client_bundle.py checks).
//
//   node build.mjs [--outfile PATH]    (default: ../sockpuppet/static/sockpuppet/sockpuppet.js)

import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { build } from "esbuild"

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { outfile: { type: "string" } } })
const outfile = resolve(values.outfile ?? resolve(here, "../sockpuppet/static/sockpuppet/sockpuppet.js"))

const version = (name) => JSON.parse(readFileSync(resolve(here, "node_modules", name, "package.json"), "utf8")).version
const own = JSON.parse(readFileSync(resolve(here, "package.json"), "utf8"))

const banner = [
  `/*! Sockpuppet client ${own.version} (MIT). Built from client/ by \`npm run build --prefix client\`; do not edit.`,
  ` * Includes @hotwired/stimulus ${version("@hotwired/stimulus")} (MIT, Copyright (c) 2021 Basecamp, LLC)`,
  ` * and morphdom ${version("morphdom")} (MIT, Copyright (c) Patrick Steele-Idem). */`,
].join("\n")

await build({
  absWorkingDir: here,
  entryPoints: ["src/index.js"],
  outfile,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2019",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  charset: "utf8",
  banner: { js: banner },
  logLevel: "warning",
})
console.log(`built ${outfile}`)

import assert from "node:assert/strict"
import { test } from "node:test"
import { runInNewContext } from "node:vm"
import { build } from "esbuild"

// esbuild renames bundled symbols that collide; unminified, the imported Stimulus
// `Controller` and a class expression named `Controller` once became
// `class Controller extends Controller`, which throws as the page loads.
test("an unminified bundle defines the Controller class", async () => {
  const { outputFiles } = await build({
    stdin: {
      contents: 'import { defineController } from "./src/controller.js"\nglobalThis.made = defineController(() => "stimulated")',
      resolveDir: new URL("..", import.meta.url).pathname,
    },
    bundle: true,
    format: "iife",
    minify: false,
    write: false,
    logLevel: "silent",
  })
  const sandbox = {}
  runInNewContext(outputFiles[0].text, { globalThis: sandbox })
  assert.equal(typeof sandbox.made, "function")
  assert.equal(sandbox.made.prototype.stimulate.call({}), "stimulated")
})

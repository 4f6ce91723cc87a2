// Bundles the portal's front-end (form-js forms, bpmn-js diagrams) into portal/static/dist/.
// Run from the repository root: `npm ci && npm run build` (the Makefile does both).
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: {
    form: "portal/assets/form.js",
    diagram: "portal/assets/diagram.js",
    portal: "portal/assets/portal.js",
    replay: "portal/assets/replay.js",
    modeler: "portal/assets/modeler.js",
    diff: "portal/assets/diff.js",
  },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: "portal/static/dist",
  loader: { ".svg": "dataurl", ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file" },
  legalComments: "none",
  // One preact for everything: form-js-editor pins its own copy, but renders inside the
  // properties panel and the form-js viewer, which use the top-level one (two copies of
  // preact break its hooks).
  alias: { preact: "./node_modules/preact" },
  logLevel: "warning",
});
console.log("built portal/static/dist/");

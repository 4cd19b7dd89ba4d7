// ESLint 9 flat config: typescript-eslint's syntax-only rules (no type information, so `npm run lint` stays a few
// seconds on a small machine; tsc already checks types) plus a few rules that match how this code is written.
import { defineConfig } from "eslint/config";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default defineConfig(
  {
    // what .gitignore leaves out (build output, caches, scratch), and declaration files
    ignores: ["dist/**", "node_modules/**", ".cache/**", "test-results/**", ".scratch/**", "**/*.tmp", "**/*.d.ts"],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["**/*.{ts,mts,cts,js,mjs,cjs}"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node },
    },
    // some files carry `eslint-disable` comments for no-explicit-any, which is off here
    linterOptions: { reportUnusedDisableDirectives: "off" },
    rules: {
      // unused names are errors unless they start with "_" (a deliberately ignored argument or binding)
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_",
        ignoreRestSiblings: true,
      }],
      // == only against null (x == null covers undefined too)
      eqeqeq: ["error", "always", { null: "ignore" }],
      "prefer-const": ["error", { destructuring: "all" }],
      "no-var": "error",
      // `any` marks the places that bridge untyped data (ONNX protos, tslab internals, JSON cards); `{}` is the
      // attribute type of graph ops that have no attributes.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      // the kernel process and the train CLI load some modules lazily, and tslab's internals, with require()
      "@typescript-eslint/no-require-imports": "off",
      // tsc checks fall-through (noFallthroughCasesInSwitch) and knows that process.exit() does not return
      "no-fallthrough": "off",
    },
  },
  {
    // browser code: the notebook renderer and the World Viewer webview
    files: ["media/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // CommonJS files (the extension-host test suite VS Code loads with require)
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
  },
);

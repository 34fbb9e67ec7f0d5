// Validates Strimzi custom resources offline against the schemas of Strimzi's
// CRDs, as packaged by @kubernetes-models/strimzi-kafka-operator.
//
//   node strimzi_validate.mjs MODULES_DIR < objects.json
//
// stdin: a JSON array of Kubernetes objects (only kafka.strimzi.io and
// core.strimzi.io ones are looked at). Two checks per object:
//   1. the package's validator (types, enums, required fields, patterns);
//   2. unknown fields: the API server rejects them (kubectl's default field
//      validation is Strict), but the validators accept them, so the allowed
//      field names are read from the package's type declarations (.d.ts), which
//      mirror the CRD schema; free-form objects ({}, maps) allow any key.
// Prints one line per object and exits 1 if any object fails.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modulesDir = process.argv[2];
if (!modulesDir) {
  console.error("usage: strimzi_validate.mjs NODE_MODULES_DIR < objects.json");
  process.exit(2);
}
const pkgDir = join(modulesDir, "@kubernetes-models", "strimzi-kafka-operator");

// --- Field trees from the .d.ts -----------------------------------------------
// A node is {kind: "object", fields: Map} | {kind: "any"} | {kind: "leaf"}.
// Arrays of objects are represented by their element node.
function parseDeclaration(text, interfaceName) {
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const start = noComments.indexOf(`export interface ${interfaceName} {`);
  if (start < 0) throw new Error(`interface ${interfaceName} not found`);
  const lines = noComments.slice(start).split("\n").slice(1);
  const root = { kind: "object", fields: new Map() };
  const stack = [root];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    const top = stack[stack.length - 1];
    // oneOf/anyOf alternatives (`} & ({`, `} | {`) add fields to the same object.
    if (/^}\s*[&|]\s*\(?\{$/.test(line)) continue;
    if (/^}\)?>?\)?;?$/.test(line)) {
      stack.pop();
      if (stack.length === 0) break;
      continue;
    }
    const m = line.match(/^"([^"]+)"\??:\s*(.*)$/);
    if (!m) {
      // An index signature (`[key: string]: T;`) makes the object a free map.
      if (/^\[[^\]]+\]:/.test(line) && top.kind === "object") top.kind = "any";
      continue;
    }
    const [, name, type] = m;
    if (/^(Array<)?\{$/.test(type)) {
      const child = { kind: "object", fields: new Map() };
      if (top.kind === "object") top.fields.set(name, child);
      stack.push(child);
    } else if (/^(Array<)?\{\s*\}>?;$/.test(type) || /^any\b/.test(type)) {
      if (top.kind === "object") top.fields.set(name, { kind: "any" });
    } else if (/\{$/.test(type)) {
      // A union or other construct opening a block: accept anything inside.
      const child = { kind: "any", fields: new Map() };
      if (top.kind === "object") top.fields.set(name, child);
      stack.push(child);
    } else {
      if (top.kind === "object") top.fields.set(name, { kind: "leaf" });
    }
  }
  return root;
}

function unknownFields(value, node, path, out) {
  if (node.kind !== "object" || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, node, `${path}[${i}]`, out));
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const child = node.fields.get(key);
    if (!child) {
      out.push(`${path}.${key}: unknown field`);
    } else {
      unknownFields(v, child, `${path}.${key}`, out);
    }
  }
}

// --- Main -------------------------------------------------------------------------
const input = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
let checked = 0;
for (const obj of input) {
  const [group, version] = String(obj.apiVersion || "").split("/");
  if (group !== "kafka.strimzi.io" && group !== "core.strimzi.io") continue;
  const name = `${obj.kind}/${obj.metadata?.name ?? "?"}`;
  checked++;
  const base = join(pkgDir, group, version, obj.kind);
  let model;
  try {
    model = await import(pathToFileURL(`${base}.js`).href);
  } catch {
    console.log(`FAIL ${name}: no schema for ${obj.apiVersion} ${obj.kind}`);
    failed++;
    continue;
  }
  const errors = [];
  try {
    new model[obj.kind](obj).validate();
  } catch (e) {
    errors.push(String(e.message || e));
  }
  const tree = parseDeclaration(readFileSync(`${base}.d.ts`, "utf8"), `I${obj.kind}`);
  // metadata is a core ObjectMeta (a leaf here), checked by the validator above.
  unknownFields(obj, tree, "", errors);
  if (errors.length) {
    failed++;
    console.log(`FAIL ${name} (${obj.apiVersion}):\n  ${errors.join("\n  ")}`);
  } else {
    console.log(`ok   ${name} (${obj.apiVersion})`);
  }
}
console.log(`strimzi: ${checked - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// Validates custom resources against their operators' CRD schemas, as compiled (JSON Schema -> ajv) by the
// pinned @kubernetes-models packages of package.json. Input: a JSON array of objects on stdin. Output: a
// JSON array, one entry per object: {kind, name, schema: "<package>@<version>" | null, errors: [...]}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const PACKAGES = {
  "postgresql.cnpg.io": "@kubernetes-models/cloudnative-pg",
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "keda.sh": "@kubernetes-models/keda",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "elasticsearch.k8s.elastic.co": "@kubernetes-models/elastic-cloud",
};

function version(pkg) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;
}

async function check(obj) {
  const [group, ver] = obj.apiVersion.split("/");
  const out = { kind: obj.kind, name: obj.metadata?.name, schema: null, errors: [] };
  const pkg = PACKAGES[group];
  if (!pkg) return out;
  out.schema = `${pkg}@${version(pkg)}`;
  let Model;
  try {
    Model = (await import(`${pkg}/${group}/${ver}/${obj.kind}`))[obj.kind];
  } catch (e) {
    out.errors.push(`no schema for ${obj.apiVersion} ${obj.kind} in ${out.schema}`);
    return out;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    out.errors.push(e.message);
  }
  return out;
}

const objects = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(await Promise.all(objects.map(check))));
void require;

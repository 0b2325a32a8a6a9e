import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";

/** Langfuse's own OpenAPI document, vendored so tests do not depend on anything outside the repo. */
export const LANGFUSE_OPENAPI_PATH = fileURLToPath(
  new URL("../../fixtures/langfuse/langfuse-openapi.yml", import.meta.url),
);

export interface SchemaCheck {
  valid: boolean;
  errors: string[];
}

export interface LangfuseSchemaValidator {
  /** Validates `value` against `#/components/schemas/<schemaName>`. */
  validate(schemaName: string, value: unknown): SchemaCheck;
}

const NULL_SCHEMA = { type: "null" };

/**
 * OpenAPI 3.0 `nullable: true` is not JSON Schema. Rewrite it: typed nodes get `"null"` added to
 * `type` (and `enum`); `$ref`/composed nodes become `anyOf [node, null]`; untyped nodes already
 * accept null.
 */
function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = convertNullable(value);
  if (out.nullable !== true) return out;
  delete out.nullable;
  if (typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  if ("$ref" in out || "allOf" in out || "oneOf" in out || "anyOf" in out) {
    const { description, ...rest } = out;
    return { ...(description === undefined ? {} : { description }), anyOf: [rest, NULL_SCHEMA] };
  }
  return out;
}

const SPEC_ID = "langfuse-openapi";

export async function createLangfuseSchemaValidator(
  specPath: string = LANGFUSE_OPENAPI_PATH,
): Promise<LangfuseSchemaValidator> {
  const document: unknown = parse(await readFile(specPath, "utf8"), { maxAliasCount: -1 }); // the document reuses `security` by alias hundreds of times
  const schemas = (document as { components?: { schemas?: unknown } }).components?.schemas;
  if (typeof schemas !== "object" || schemas === null)
    throw new Error(`${specPath} has no components.schemas`);
  // strict: false because OpenAPI adds keywords (discriminator, example) that JSON Schema lacks.
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = addFormatsModule as unknown as (instance: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addFormat("double", true);
  ajv.addFormat("float", true);
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: convertNullable(schemas) } });
  const compiled = new Map<string, ValidateFunction>();
  return {
    validate(schemaName, value) {
      let fn = compiled.get(schemaName);
      if (!fn) {
        fn = ajv.getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
        if (!fn) throw new Error(`no schema ${schemaName} in the Langfuse OpenAPI document`);
        compiled.set(schemaName, fn);
      }
      const valid = fn(value) === true;
      const errors = (fn.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim());
      return { valid, errors };
    },
  };
}

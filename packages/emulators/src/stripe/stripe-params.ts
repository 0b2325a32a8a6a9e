import { StripeApiError } from "./stripe-api.error";
import type { FormObject, FormValue } from "./stripe-form.parser";

/**
 * What an endpoint accepts: `"s"` a scalar, `"map"` a free-form map (metadata, payload),
 * a nested shape, or a one-element tuple for an array of that shape.
 */
export type ParamShape = "s" | "map" | { [key: string]: ParamShape } | [ParamShape];

function check(value: FormValue, shape: ParamShape, path: string): void {
  if (shape === "s" || shape === "map") return;
  // Stripe treats an empty string as "unset" for objects and arrays (Emptyable params).
  if (typeof value === "string") return;
  if (Array.isArray(shape)) {
    const inner = shape[0];
    const items = Array.isArray(value) ? value : Object.values(value);
    items.forEach((item, i) => {
      check(item, inner, `${path}[${i}]`);
    });
    return;
  }
  if (Array.isArray(value)) return;
  for (const key of Object.keys(value)) {
    const sub = shape[key];
    const name = path === "" ? key : `${path}[${key}]`;
    if (sub === undefined) throw StripeApiError.unknownParam(name);
    check(value[key] as FormValue, sub, name);
  }
}

/** Rejects any parameter the endpoint does not know, naming it as Stripe does. */
export function checkParams(params: FormObject, shape: { [key: string]: ParamShape }): void {
  check(params, shape, "");
}

/** Params every endpoint takes. */
export const COMMON = { expand: ["s"] } as const satisfies { [key: string]: ParamShape };
export const LIST = { ...COMMON, limit: "s", starting_after: "s", ending_before: "s" } as const satisfies {
  [key: string]: ParamShape;
};

export function optStr(params: FormObject, key: string, param = key): string | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string")
    throw StripeApiError.invalid(`Invalid string: ${param}`, param, "parameter_invalid_string");
  return v;
}

export function reqStr(params: FormObject, key: string, param = key): string {
  const v = optStr(params, key, param);
  if (v === undefined || v === "") throw StripeApiError.missing(param);
  return v;
}

export function optInt(params: FormObject, key: string, param = key): number | undefined {
  const v = optStr(params, key, param);
  if (v === undefined || v === "") return undefined;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw StripeApiError.invalid(`Invalid integer: ${v}`, param, "parameter_invalid_integer");
  }
  return Number(v);
}

export function optNum(params: FormObject, key: string, param = key): number | undefined {
  const v = optStr(params, key, param);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw StripeApiError.invalid(`Invalid decimal: ${v}`, param, "parameter_invalid_decimal");
  return n;
}

export function optBool(params: FormObject, key: string, param = key): boolean | undefined {
  const v = optStr(params, key, param);
  if (v === undefined || v === "") return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw StripeApiError.invalid(`Invalid boolean: ${v}`, param, "parameter_invalid_boolean");
}

export function optEnum<T extends string>(
  params: FormObject,
  key: string,
  allowed: readonly T[],
  param = key,
): T | undefined {
  const v = optStr(params, key, param);
  if (v === undefined || v === "") return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw StripeApiError.invalid(
      `Invalid ${param}: must be one of ${allowed.join(", ")}`,
      param,
      "parameter_invalid_string",
    );
  }
  return v as T;
}

export function optObj(params: FormObject, key: string, param = key): FormObject | undefined {
  const v = params[key];
  if (v === undefined || v === "") return undefined;
  if (typeof v === "string" || Array.isArray(v)) {
    throw StripeApiError.invalid(`Invalid object: ${param}`, param, "parameter_invalid_object");
  }
  return v;
}

export function optArr(params: FormObject, key: string, param = key): FormValue[] | undefined {
  const v = params[key];
  if (v === undefined || v === "") return undefined;
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [v];
  throw StripeApiError.invalid(`Invalid array: ${param}`, param, "parameter_invalid_array");
}

/** A metadata map; `""` clears it, a key set to `""` removes that key (Stripe's semantics). */
export function applyMetadata(
  current: Record<string, string>,
  params: FormObject,
  key = "metadata",
): Record<string, string> {
  const v = params[key];
  if (v === undefined) return current;
  if (v === "") return {};
  if (typeof v === "string" || Array.isArray(v)) throw StripeApiError.invalid("Invalid hash", key);
  const next = { ...current };
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw StripeApiError.invalid("Invalid hash", `${key}[${k}]`);
    if (val === "") delete next[k];
    else next[k] = val;
  }
  return next;
}

export function asObj(value: FormValue | undefined, param: string): FormObject {
  if (value === undefined || typeof value === "string" || Array.isArray(value)) {
    throw StripeApiError.invalid(`Invalid object: ${param}`, param, "parameter_invalid_object");
  }
  return value;
}

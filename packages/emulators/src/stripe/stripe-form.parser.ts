/** A value decoded from Stripe's bracket form encoding (`a[b][0][c]=v`). */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

// Keys that would let a request body reach Object.prototype.
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function decode(part: string): string {
  const plain = part.indexOf("+") === -1 ? part : part.replace(/\+/g, " ");
  return plain.indexOf("%") === -1 ? plain : decodeURIComponent(plain);
}

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open === -1) return [key];
  const segments = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = open;
  for (let m = re.exec(key); m !== null; m = re.exec(key)) segments.push(m[1] ?? "");
  return segments;
}

/** Objects whose keys are all array indices become arrays, as Stripe reads `items[0][price]`. */
function arrayify(value: FormValue): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  for (const k of keys) value[k] = arrayify(value[k] as FormValue);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => value[String(i)] as FormValue);
  }
  return value;
}

/**
 * Parses an `application/x-www-form-urlencoded` body or a query string the way Stripe does:
 * nested objects through brackets, arrays through `[0]` or `[]`. Hand-written (no `qs`)
 * because it sits on the meter-event hot path.
 */
export function parseForm(raw: string): FormObject {
  const root: FormObject = {};
  if (raw.length === 0) return root;
  let nested = false;
  for (const pair of raw.split("&")) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf("=");
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
    const segments = splitKey(key);
    if (segments.some((s) => FORBIDDEN.has(s))) continue;
    let node: FormObject = root;
    for (let i = 0; i < segments.length - 1; i++) {
      nested = true;
      const seg = segments[i] as string;
      const nextSeg = segments[i + 1] as string;
      let child = node[seg];
      if (child === undefined || typeof child === "string" || Array.isArray(child)) {
        child = {};
        node[seg] = child;
      }
      node = child;
      if (nextSeg === "") segments[i + 1] = String(Object.keys(node).length);
    }
    node[segments[segments.length - 1] as string] = value;
  }
  if (nested) for (const k of Object.keys(root)) root[k] = arrayify(root[k] as FormValue);
  return root;
}

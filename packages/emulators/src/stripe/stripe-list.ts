import { StripeApiError } from "./stripe-api.error";
import type { FormObject } from "./stripe-form.parser";
import { optInt, optStr } from "./stripe-params";

export interface ListResponse<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

export function listLimit(params: FormObject): number {
  const limit = optInt(params, "limit") ?? 10;
  if (limit < 1 || limit > 100) {
    throw StripeApiError.invalid(
      "Invalid limit: must be between 1 and 100",
      "limit",
      "parameter_invalid_integer",
    );
  }
  return limit;
}

/**
 * Cursor pagination as Stripe does it: `items` newest first, `starting_after` / `ending_before`
 * name an object id, `has_more` tells the SDK's auto-pagination whether to go on.
 */
export function paginate<T extends { id: string }>(
  items: T[],
  params: FormObject,
  url: string,
): ListResponse<T> {
  const limit = listLimit(params);
  const after = optStr(params, "starting_after");
  const before = optStr(params, "ending_before");
  if (after !== undefined && after !== "") {
    const i = items.findIndex((x) => x.id === after);
    if (i === -1)
      throw StripeApiError.invalid(`No such object: '${after}'`, "starting_after", "resource_missing");
    const rest = items.slice(i + 1);
    return { object: "list", data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (before !== undefined && before !== "") {
    const i = items.findIndex((x) => x.id === before);
    if (i === -1)
      throw StripeApiError.invalid(`No such object: '${before}'`, "ending_before", "resource_missing");
    const head = items.slice(0, i);
    return {
      object: "list",
      data: head.slice(Math.max(0, head.length - limit)),
      has_more: head.length > limit,
      url,
    };
  }
  return { object: "list", data: items.slice(0, limit), has_more: items.length > limit, url };
}

/** A Map's values, newest first (insertion order reversed). */
export function newestFirst<T>(map: Map<string, T>): T[] {
  return [...map.values()].reverse();
}

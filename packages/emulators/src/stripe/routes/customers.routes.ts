import { newId } from "../stripe.ids";
import type { RequestContext, StripeRouter } from "../stripe.router";
import type { CustomerObject } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import type { FormObject } from "../stripe-form.parser";
import { newestFirst, paginate } from "../stripe-list";
import {
  applyMetadata,
  COMMON,
  checkParams,
  LIST,
  optInt,
  optStr,
  type ParamShape,
  reqStr,
} from "../stripe-params";

const WRITE: { [key: string]: ParamShape } = {
  ...COMMON,
  address: "map",
  balance: "s",
  description: "s",
  email: "s",
  invoice_prefix: "s",
  invoice_settings: {
    custom_fields: "map",
    default_payment_method: "s",
    footer: "s",
    rendering_options: "map",
  },
  metadata: "map",
  name: "s",
  phone: "s",
  preferred_locales: ["s"],
  payment_method: "s",
  shipping: "map",
  tax_exempt: "s",
  test_clock: "s",
};

interface Clause {
  field: string;
  key: string | null;
  op: ":" | "~";
  value: string;
}

const CLAUSE = /^\s*(?:metadata\[\s*['"]([^'"]+)['"]\s*\]|([a-z_]+))\s*(:|~)\s*['"]([^'"]*)['"]\s*$/;

/** Stripe's search language, for the fields customers support (`metadata['k']:'v'`, `email:'…'`). */
function parseQuery(query: string): { clauses: Clause[]; mode: "AND" | "OR" } {
  const hasAnd = / AND /.test(query);
  const hasOr = / OR /.test(query);
  if (hasAnd && hasOr) throw StripeApiError.invalid("Search queries cannot mix AND and OR.", "query");
  const mode = hasOr ? "OR" : "AND";
  const clauses = query.split(mode === "OR" ? / OR / : / AND /).map((part) => {
    const m = CLAUSE.exec(part);
    if (m === null) throw StripeApiError.invalid(`Invalid search query: ${query}`, "query");
    const field = m[1] !== undefined ? "metadata" : (m[2] as string);
    if (!["metadata", "email", "name", "phone", "created"].includes(field)) {
      throw StripeApiError.invalid(
        `Field \`${field}\` is an unsupported search field for resource \`customers\`.`,
        "query",
      );
    }
    return { field, key: m[1] ?? null, op: m[3] as ":" | "~", value: m[4] as string };
  });
  return { clauses, mode };
}

function clauseMatches(c: CustomerObject, clause: Clause): boolean {
  const actual =
    clause.field === "metadata"
      ? c.metadata[clause.key as string]
      : (c as unknown as Record<string, unknown>)[clause.field];
  if (typeof actual !== "string") return false;
  return clause.op === ":"
    ? actual === clause.value
    : actual.toLowerCase().includes(clause.value.toLowerCase());
}

function applyFields(c: CustomerObject, p: FormObject): void {
  const email = optStr(p, "email");
  if (email !== undefined) c.email = email === "" ? null : email;
  const name = optStr(p, "name");
  if (name !== undefined) c.name = name === "" ? null : name;
  const description = optStr(p, "description");
  if (description !== undefined) c.description = description === "" ? null : description;
  const phone = optStr(p, "phone");
  if (phone !== undefined) c.phone = phone === "" ? null : phone;
  const balance = optInt(p, "balance");
  if (balance !== undefined) c.balance = balance;
  c.metadata = applyMetadata(c.metadata, p);
}

export function registerCustomerRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/customers", ({ params, store }: RequestContext) => {
    checkParams(params, WRITE);
    const c: CustomerObject = {
      id: newId("cus", 14),
      object: "customer",
      address: null,
      balance: 0,
      created: store.nowSec(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      email: null,
      invoice_prefix: newId("X", 6).slice(2).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null },
      livemode: false,
      metadata: {},
      name: null,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: "none",
      test_clock: null,
    };
    applyFields(c, params);
    store.customers.set(c.id, c);
    store.emit("customer.created", c);
    return c;
  });

  router.add("GET", "/v1/customers", ({ params, store }) => {
    checkParams(params, { ...LIST, email: "s", created: "map", test_clock: "s" });
    const email = optStr(params, "email");
    const all = newestFirst(store.customers).filter((c) => email === undefined || c.email === email);
    return paginate(all, params, "/v1/customers");
  });

  router.add("GET", "/v1/customers/search", ({ params, store }) => {
    checkParams(params, { ...COMMON, query: "s", limit: "s", page: "s" });
    const { clauses, mode } = parseQuery(reqStr(params, "query"));
    const limit = optInt(params, "limit") ?? 10;
    if (limit < 1 || limit > 100)
      throw StripeApiError.invalid("Invalid limit: must be between 1 and 100", "limit");
    const offset = Number(optStr(params, "page") ?? "0") || 0;
    const hits = newestFirst(store.customers).filter((c) =>
      mode === "AND"
        ? clauses.every((cl) => clauseMatches(c, cl))
        : clauses.some((cl) => clauseMatches(c, cl)),
    );
    const data = hits.slice(offset, offset + limit);
    const hasMore = hits.length > offset + limit;
    return {
      object: "search_result",
      data,
      has_more: hasMore,
      next_page: hasMore ? String(offset + limit) : null,
      url: "/v1/customers/search",
    };
  });

  router.add("GET", "/v1/customers/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return store.customer(pathParams[0] as string, "id", 404);
  });

  router.add("POST", "/v1/customers/:id", ({ params, pathParams, store }) => {
    checkParams(params, { ...WRITE, default_source: "s", source: "s" });
    const c = store.customer(pathParams[0] as string, "id", 404);
    const before = structuredClone(c);
    applyFields(c, params);
    store.emit("customer.updated", c, { metadata: before.metadata });
    return c;
  });

  router.add("DELETE", "/v1/customers/:id", ({ pathParams, store }) => {
    const c = store.customer(pathParams[0] as string, "id", 404);
    store.customers.delete(c.id);
    store.emit("customer.deleted", c);
    return { id: c.id, object: "customer", deleted: true };
  });
}

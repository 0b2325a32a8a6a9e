import { newId } from "../stripe.ids";
import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { CouponObject, PriceObject, PriceTier, ProductObject } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import type { FormObject } from "../stripe-form.parser";
import { newestFirst, paginate } from "../stripe-list";
import {
  applyMetadata,
  asObj,
  COMMON,
  checkParams,
  LIST,
  optArr,
  optBool,
  optEnum,
  optInt,
  optNum,
  optObj,
  optStr,
  type ParamShape,
  reqStr,
} from "../stripe-params";

const PRODUCT_WRITE: { [key: string]: ParamShape } = {
  ...COMMON,
  active: "s",
  description: "s",
  id: "s",
  images: ["s"],
  metadata: "map",
  name: "s",
  statement_descriptor: "s",
  tax_code: "s",
  type: "s",
  unit_label: "s",
  url: "s",
};

const TIER: ParamShape = {
  flat_amount: "s",
  flat_amount_decimal: "s",
  unit_amount: "s",
  unit_amount_decimal: "s",
  up_to: "s",
};

const PRICE_CREATE: { [key: string]: ParamShape } = {
  ...COMMON,
  active: "s",
  billing_scheme: "s",
  currency: "s",
  lookup_key: "s",
  metadata: "map",
  nickname: "s",
  product: "s",
  product_data: {
    name: "s",
    active: "s",
    id: "s",
    metadata: "map",
    statement_descriptor: "s",
    tax_code: "s",
    unit_label: "s",
  },
  recurring: { interval: "s", interval_count: "s", meter: "s", trial_period_days: "s", usage_type: "s" },
  tax_behavior: "s",
  tiers: [TIER],
  tiers_mode: "s",
  transfer_lookup_key: "s",
  transform_quantity: { divide_by: "s", round: "s" },
  unit_amount: "s",
  unit_amount_decimal: "s",
};

function newProduct(store: StripeStore, p: FormObject, prefix = ""): ProductObject {
  const id = optStr(p, "id", `${prefix}id`) ?? newId("prod", 14);
  if (store.products.has(id))
    throw StripeApiError.invalid(`Product already exists.`, `${prefix}id`, "resource_already_exists");
  const now = store.nowSec();
  const product: ProductObject = {
    id,
    object: "product",
    active: optBool(p, "active", `${prefix}active`) ?? true,
    created: now,
    default_price: null,
    description: optStr(p, "description") ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: applyMetadata({}, p),
    name: reqStr(p, "name", `${prefix}name`),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: optStr(p, "statement_descriptor") ?? null,
    tax_code: null,
    type: "service",
    unit_label: optStr(p, "unit_label") ?? null,
    updated: now,
    url: optStr(p, "url") ?? null,
  };
  store.products.set(id, product);
  store.emit("product.created", product);
  return product;
}

/** Decimal strings as Stripe echoes them: no exponent, no trailing zeros. */
function decimalString(value: string, param: string): string {
  if (!/^-?\d+(\.\d{1,12})?$/.test(value)) {
    throw StripeApiError.invalid(`Invalid decimal: ${value}`, param, "parameter_invalid_decimal");
  }
  return value.includes(".") ? value.replace(/\.?0+$/, "") : value;
}

function parseTiers(params: FormObject): PriceTier[] {
  const raw = optArr(params, "tiers") ?? [];
  return raw.map((t, i) => {
    const tier = asObj(t, `tiers[${i}]`);
    const upTo = reqStr(tier, "up_to", `tiers[${i}][up_to]`);
    const unit = optInt(tier, "unit_amount", `tiers[${i}][unit_amount]`) ?? null;
    const unitDec = optStr(tier, "unit_amount_decimal", `tiers[${i}][unit_amount_decimal]`);
    const flat = optInt(tier, "flat_amount", `tiers[${i}][flat_amount]`) ?? null;
    const flatDec = optStr(tier, "flat_amount_decimal", `tiers[${i}][flat_amount_decimal]`);
    return {
      up_to: upTo === "inf" ? null : Number(upTo),
      unit_amount: unit,
      unit_amount_decimal:
        unitDec !== undefined
          ? decimalString(unitDec, `tiers[${i}][unit_amount_decimal]`)
          : unit === null
            ? null
            : String(unit),
      flat_amount: flat,
      flat_amount_decimal:
        flatDec !== undefined
          ? decimalString(flatDec, `tiers[${i}][flat_amount_decimal]`)
          : flat === null
            ? null
            : String(flat),
    };
  });
}

function createPrice(store: StripeStore, params: FormObject): PriceObject {
  checkParams(params, PRICE_CREATE);
  const currency = reqStr(params, "currency").toLowerCase();
  let productId = optStr(params, "product");
  const productData = optObj(params, "product_data");
  if (productId === undefined && productData === undefined) throw StripeApiError.missing("product");
  if (productId !== undefined && productData !== undefined) {
    throw StripeApiError.invalid(
      "You may only specify one of these parameters: product, product_data.",
      "product_data",
    );
  }
  if (productData !== undefined) productId = newProduct(store, productData, "product_data[").id;
  if (!store.products.has(productId as string))
    throw StripeApiError.noSuch("product", productId as string, "product", 400);

  const billingScheme = optEnum(params, "billing_scheme", ["per_unit", "tiered"] as const) ?? "per_unit";
  const tiers = billingScheme === "tiered" ? parseTiers(params) : undefined;
  const tiersMode = optEnum(params, "tiers_mode", ["graduated", "volume"] as const) ?? null;
  if (billingScheme === "tiered" && (tiers === undefined || tiers.length === 0))
    throw StripeApiError.missing("tiers");
  if (billingScheme === "tiered" && tiersMode === null) throw StripeApiError.missing("tiers_mode");
  const transform = optObj(params, "transform_quantity");
  if (transform !== undefined && billingScheme === "tiered") {
    throw StripeApiError.invalid(
      "You cannot use `transform_quantity` with `billing_scheme=tiered`.",
      "transform_quantity",
    );
  }
  const unitAmount = optInt(params, "unit_amount");
  const unitDecimalRaw = optStr(params, "unit_amount_decimal");
  if (unitAmount !== undefined && unitDecimalRaw !== undefined) {
    throw StripeApiError.invalid(
      "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
      "unit_amount_decimal",
    );
  }
  if (billingScheme === "per_unit" && unitAmount === undefined && unitDecimalRaw === undefined) {
    throw StripeApiError.missing("unit_amount");
  }
  const unitDecimal =
    unitDecimalRaw !== undefined ? decimalString(unitDecimalRaw, "unit_amount_decimal") : undefined;

  let recurring: PriceObject["recurring"] = null;
  const rec = optObj(params, "recurring");
  if (rec !== undefined) {
    const usageType =
      optEnum(rec, "usage_type", ["licensed", "metered"] as const, "recurring[usage_type]") ?? "licensed";
    const meter = optStr(rec, "meter", "recurring[meter]") ?? null;
    if (usageType === "metered" && meter === null) {
      throw StripeApiError.invalid(
        "Metered prices must be backed by a meter: pass recurring[meter].",
        "recurring[meter]",
      );
    }
    if (meter !== null && !store.meters.has(meter))
      throw StripeApiError.noSuch("billing.meter", meter, "recurring[meter]", 400);
    recurring = {
      interval:
        optEnum(rec, "interval", ["day", "week", "month", "year"] as const, "recurring[interval]") ?? "month",
      interval_count: optInt(rec, "interval_count", "recurring[interval_count]") ?? 1,
      meter,
      trial_period_days: null,
      usage_type: usageType,
    };
    if (optStr(rec, "interval", "recurring[interval]") === undefined)
      throw StripeApiError.missing("recurring[interval]");
  }

  const lookupKey = optStr(params, "lookup_key");
  if (lookupKey !== undefined && lookupKey !== "") {
    const holder = store.pricesByLookupKey.get(lookupKey);
    if (holder !== undefined) {
      if (optBool(params, "transfer_lookup_key") !== true) {
        throw StripeApiError.invalid(
          `A price (\`${holder.id}\`) already uses that lookup key. Pass transfer_lookup_key=true to move it.`,
          "lookup_key",
        );
      }
      holder.lookup_key = null;
    }
  }

  const price: PriceObject = {
    id: newId("price"),
    object: "price",
    active: optBool(params, "active") ?? true,
    billing_scheme: billingScheme,
    created: store.nowSec(),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: lookupKey === undefined || lookupKey === "" ? null : lookupKey,
    metadata: applyMetadata({}, params),
    nickname: optStr(params, "nickname") ?? null,
    product: productId as string,
    recurring,
    tax_behavior:
      optEnum(params, "tax_behavior", ["unspecified", "inclusive", "exclusive"] as const) ?? "unspecified",
    tiers_mode: billingScheme === "tiered" ? tiersMode : null,
    transform_quantity:
      transform === undefined
        ? null
        : {
            divide_by: optInt(transform, "divide_by", "transform_quantity[divide_by]") ?? 1,
            round: optEnum(transform, "round", ["up", "down"] as const, "transform_quantity[round]") ?? "up",
          },
    type: recurring === null ? "one_time" : "recurring",
    unit_amount:
      billingScheme === "tiered"
        ? null
        : (unitAmount ?? (Number.isInteger(Number(unitDecimal)) ? Number(unitDecimal) : null)),
    unit_amount_decimal: billingScheme === "tiered" ? null : (unitDecimal ?? String(unitAmount)),
  };
  if (tiers !== undefined) price.tiers = tiers;
  store.prices.set(price.id, price);
  if (price.lookup_key !== null) store.pricesByLookupKey.set(price.lookup_key, price);
  store.emit("price.created", price);
  return price;
}

export function registerCatalogRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/products", ({ params, store }) => {
    checkParams(params, {
      ...PRODUCT_WRITE,
      default_price_data: "map",
      marketing_features: ["map"],
      tax_details: "map",
    });
    return newProduct(store, params);
  });
  router.add("GET", "/v1/products", ({ params, store }) => {
    checkParams(params, { ...LIST, active: "s", ids: ["s"], created: "map", shippable: "s", url: "s" });
    const active = optBool(params, "active");
    const ids = optArr(params, "ids");
    const items = newestFirst(store.products).filter(
      (p) => (active === undefined || p.active === active) && (ids === undefined || ids.includes(p.id)),
    );
    return paginate(items, params, "/v1/products");
  });
  router.add("GET", "/v1/products/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const p = store.products.get(pathParams[0] as string);
    if (p === undefined) throw StripeApiError.noSuch("product", pathParams[0] as string);
    return p;
  });
  router.add("POST", "/v1/products/:id", ({ params, pathParams, store }) => {
    checkParams(params, { ...PRODUCT_WRITE, default_price: "s" });
    const p = store.products.get(pathParams[0] as string);
    if (p === undefined) throw StripeApiError.noSuch("product", pathParams[0] as string);
    const name = optStr(params, "name");
    if (name !== undefined) p.name = name;
    const active = optBool(params, "active");
    if (active !== undefined) p.active = active;
    const description = optStr(params, "description");
    if (description !== undefined) p.description = description === "" ? null : description;
    const defaultPrice = optStr(params, "default_price");
    if (defaultPrice !== undefined) p.default_price = store.price(defaultPrice, "default_price").id;
    p.metadata = applyMetadata(p.metadata, params);
    p.updated = store.nowSec();
    store.emit("product.updated", p);
    return p;
  });

  router.add("POST", "/v1/prices", ({ params, store }) => createPrice(store, params));
  router.add("GET", "/v1/prices", ({ params, store }) => {
    checkParams(params, {
      ...LIST,
      active: "s",
      created: "map",
      currency: "s",
      lookup_keys: ["s"],
      product: "s",
      recurring: { interval: "s", meter: "s", usage_type: "s" },
      type: "s",
    });
    const active = optBool(params, "active");
    const product = optStr(params, "product");
    const type = optStr(params, "type");
    const currency = optStr(params, "currency");
    const lookupKeys = optArr(params, "lookup_keys");
    if (lookupKeys !== undefined && lookupKeys.length > 10) {
      throw StripeApiError.invalid("You may pass at most 10 lookup_keys.", "lookup_keys");
    }
    const items = newestFirst(store.prices).filter(
      (p) =>
        (active === undefined || p.active === active) &&
        (product === undefined || p.product === product) &&
        (type === undefined || p.type === type) &&
        (currency === undefined || p.currency === currency) &&
        (lookupKeys === undefined || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))),
    );
    return paginate(items, params, "/v1/prices");
  });
  router.add("GET", "/v1/prices/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return store.price(pathParams[0] as string, "id", 404);
  });
  router.add("POST", "/v1/prices/:id", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...COMMON,
      active: "s",
      lookup_key: "s",
      metadata: "map",
      nickname: "s",
      tax_behavior: "s",
      transfer_lookup_key: "s",
    });
    const price = store.price(pathParams[0] as string, "id", 404);
    const active = optBool(params, "active");
    if (active !== undefined) price.active = active;
    const nickname = optStr(params, "nickname");
    if (nickname !== undefined) price.nickname = nickname === "" ? null : nickname;
    const lookupKey = optStr(params, "lookup_key");
    if (lookupKey !== undefined) {
      const holder = lookupKey === "" ? undefined : store.pricesByLookupKey.get(lookupKey);
      if (holder !== undefined && holder.id !== price.id) {
        if (optBool(params, "transfer_lookup_key") !== true) {
          throw StripeApiError.invalid(
            `A price (\`${holder.id}\`) already uses that lookup key.`,
            "lookup_key",
          );
        }
        holder.lookup_key = null;
      }
      if (price.lookup_key !== null) store.pricesByLookupKey.delete(price.lookup_key);
      price.lookup_key = lookupKey === "" ? null : lookupKey;
      if (price.lookup_key !== null) store.pricesByLookupKey.set(price.lookup_key, price);
    }
    price.metadata = applyMetadata(price.metadata, params);
    store.emit("price.updated", price);
    return price;
  });

  router.add("POST", "/v1/coupons", ({ params, store }) => {
    checkParams(params, {
      ...COMMON,
      amount_off: "s",
      applies_to: { products: ["s"] },
      currency: "s",
      duration: "s",
      duration_in_months: "s",
      id: "s",
      max_redemptions: "s",
      metadata: "map",
      name: "s",
      percent_off: "s",
      redeem_by: "s",
    });
    const percentOff = optNum(params, "percent_off") ?? null;
    const amountOff = optInt(params, "amount_off") ?? null;
    if ((percentOff === null) === (amountOff === null)) {
      throw StripeApiError.invalid("You must pass exactly one of percent_off or amount_off.", "percent_off");
    }
    if (percentOff !== null && (percentOff <= 0 || percentOff > 100)) {
      throw StripeApiError.invalid("percent_off must be between 0 and 100.", "percent_off");
    }
    const currency = optStr(params, "currency")?.toLowerCase() ?? null;
    if (amountOff !== null && currency === null) throw StripeApiError.missing("currency");
    const id = optStr(params, "id") ?? newId("", 8).slice(1);
    if (store.coupons.has(id))
      throw StripeApiError.invalid("Coupon already exists.", "id", "resource_already_exists");
    const coupon: CouponObject = {
      id,
      object: "coupon",
      amount_off: amountOff,
      created: store.nowSec(),
      currency,
      duration: optEnum(params, "duration", ["forever", "once", "repeating"] as const) ?? "once",
      duration_in_months: optInt(params, "duration_in_months") ?? null,
      livemode: false,
      max_redemptions: optInt(params, "max_redemptions") ?? null,
      metadata: applyMetadata({}, params),
      name: optStr(params, "name") ?? null,
      percent_off: percentOff,
      redeem_by: optInt(params, "redeem_by") ?? null,
      times_redeemed: 0,
      valid: true,
    };
    store.coupons.set(id, coupon);
    store.emit("coupon.created", coupon);
    return coupon;
  });
  router.add("GET", "/v1/coupons/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const c = store.coupons.get(pathParams[0] as string);
    if (c === undefined) throw StripeApiError.noSuch("coupon", pathParams[0] as string);
    return c;
  });
  router.add("GET", "/v1/coupons", ({ params, store }) => {
    checkParams(params, { ...LIST, created: "map" });
    return paginate(newestFirst(store.coupons), params, "/v1/coupons");
  });
}

import { newId } from "../stripe.ids";
import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { InvoiceItemObject, InvoiceObject } from "../stripe.types";
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
  optInt,
  optObj,
  optStr,
  type ParamShape,
} from "../stripe-params";

const INVOICE_WRITE: { [key: string]: ParamShape } = {
  ...COMMON,
  auto_advance: "s",
  automatic_tax: { enabled: "s" },
  automatically_finalizes_at: "s",
  collection_method: "s",
  custom_fields: ["map"],
  days_until_due: "s",
  default_payment_method: "s",
  description: "s",
  discounts: [{ coupon: "s", discount: "s", promotion_code: "s" }],
  due_date: "s",
  footer: "s",
  metadata: "map",
  payment_settings: "map",
  rendering: "map",
  statement_descriptor: "s",
};

function invoiceDiscounts(store: StripeStore, params: FormObject): string[] | undefined {
  if (params.discounts === "") return [];
  const raw = optArr(params, "discounts");
  if (raw === undefined) return undefined;
  return raw.map((d, i) => {
    const coupon = optStr(asObj(d, `discounts[${i}]`), "coupon", `discounts[${i}][coupon]`);
    if (coupon === undefined) throw StripeApiError.missing(`discounts[${i}][coupon]`);
    if (!store.coupons.has(coupon))
      throw StripeApiError.noSuch("coupon", coupon, `discounts[${i}][coupon]`, 400);
    return coupon;
  });
}

function requireDraft(invoice: InvoiceObject, what: string): void {
  if (invoice.status !== "draft") {
    throw StripeApiError.invalid(
      `You can only ${what} draft invoices; invoice ${invoice.id} is ${invoice.status}.`,
      undefined,
      "invoice_not_editable",
    );
  }
}

function applyInvoiceFields(store: StripeStore, invoice: InvoiceObject, params: FormObject): void {
  const auto = optBool(params, "auto_advance");
  if (auto !== undefined) {
    invoice.auto_advance = auto;
    // A held draft (auto_advance=false) is not finalized automatically.
    invoice.automatically_finalizes_at = auto && invoice.status === "draft" ? invoice.created + 3600 : null;
  }
  const afa = optInt(params, "automatically_finalizes_at");
  if (afa !== undefined) invoice.automatically_finalizes_at = afa;
  const description = optStr(params, "description");
  if (description !== undefined) invoice.description = description === "" ? null : description;
  const d = invoiceDiscounts(store, params);
  if (d !== undefined) {
    requireDraft(invoice, "change discounts on");
    invoice.discounts = d;
  }
  invoice.metadata = applyMetadata(invoice.metadata, params);
  store.recompute(invoice);
}

export function registerInvoiceRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/invoices", ({ params, store }) => {
    checkParams(params, {
      ...INVOICE_WRITE,
      currency: "s",
      customer: "s",
      pending_invoice_items_behavior: "s",
      subscription: "s",
    });
    const customerId = optStr(params, "customer");
    const subId = optStr(params, "subscription");
    const sub = subId === undefined ? undefined : store.subscription(subId, 400);
    const customer = customerId ?? sub?.customer;
    if (customer === undefined) throw StripeApiError.missing("customer");
    store.customer(customer, "customer");
    const invoice = store.newInvoice(customer, {
      currency: optStr(params, "currency")?.toLowerCase() ?? sub?.currency ?? "usd",
      parent:
        sub === undefined
          ? null
          : {
              type: "subscription_details",
              subscription_details: { subscription: sub.id, metadata: sub.metadata },
            },
    });
    applyInvoiceFields(store, invoice, params);
    if (optStr(params, "pending_invoice_items_behavior") === "include") {
      for (const ii of store.invoiceItems.values()) {
        if (ii.invoice === null && ii.customer === customer) {
          ii.invoice = invoice.id;
          store.addLineFromItem(invoice, ii);
        }
      }
    }
    store.emit("invoice.created", invoice);
    return invoice;
  });

  router.add("GET", "/v1/invoices", ({ params, store }) => {
    checkParams(params, {
      ...LIST,
      collection_method: "s",
      created: "map",
      customer: "s",
      due_date: "map",
      status: "s",
      subscription: "s",
    });
    const customer = optStr(params, "customer");
    const status = optStr(params, "status");
    const sub = optStr(params, "subscription");
    const items = newestFirst(store.invoices).filter(
      (i) =>
        (customer === undefined || i.customer === customer) &&
        (status === undefined || i.status === status) &&
        (sub === undefined || i.parent?.subscription_details.subscription === sub),
    );
    return paginate(items, params, "/v1/invoices");
  });

  router.add("GET", "/v1/invoices/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return store.invoice(pathParams[0] as string);
  });

  router.add("GET", "/v1/invoices/:id/lines", ({ params, pathParams, store }) => {
    checkParams(params, LIST);
    const invoice = store.invoice(pathParams[0] as string);
    return paginate(invoice.lines.data, params, `/v1/invoices/${invoice.id}/lines`);
  });

  router.add("POST", "/v1/invoices/:id", ({ params, pathParams, store }) => {
    checkParams(params, INVOICE_WRITE);
    const invoice = store.invoice(pathParams[0] as string);
    const before = structuredClone(invoice);
    applyInvoiceFields(store, invoice, params);
    store.emit("invoice.updated", invoice, {
      auto_advance: before.auto_advance,
      discounts: before.discounts,
    });
    return invoice;
  });

  router.add("DELETE", "/v1/invoices/:id", ({ pathParams, store }) => {
    const invoice = store.invoice(pathParams[0] as string);
    requireDraft(invoice, "delete");
    store.invoices.delete(invoice.id);
    store.emit("invoice.deleted", invoice);
    return { id: invoice.id, object: "invoice", deleted: true };
  });

  router.add("POST", "/v1/invoices/:id/finalize", ({ params, pathParams, store }) => {
    checkParams(params, { ...COMMON, auto_advance: "s" });
    return store.finalizeInvoice(pathParams[0] as string, optBool(params, "auto_advance"));
  });

  router.add("POST", "/v1/invoices/:id/pay", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...COMMON,
      forgive: "s",
      mandate: "s",
      off_session: "s",
      paid_out_of_band: "s",
      payment_method: "s",
      source: "s",
    });
    return store.payInvoice(pathParams[0] as string);
  });

  router.add("POST", "/v1/invoices/:id/void", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const invoice = store.invoice(pathParams[0] as string);
    if (invoice.status !== "open")
      throw StripeApiError.invalid("You can only void open invoices.", undefined, "invoice_not_editable");
    invoice.status = "void";
    invoice.status_transitions.voided_at = store.nowSec();
    store.emit("invoice.voided", invoice);
    return invoice;
  });

  router.add("POST", "/v1/invoiceitems", ({ params, store }) => {
    checkParams(params, {
      ...COMMON,
      amount: "s",
      currency: "s",
      customer: "s",
      description: "s",
      discountable: "s",
      discounts: ["map"],
      invoice: "s",
      metadata: "map",
      period: { start: "s", end: "s" },
      pricing: { price: "s" },
      quantity: "s",
      subscription: "s",
      tax_behavior: "s",
      tax_code: "s",
      tax_rates: ["s"],
      unit_amount_decimal: "s",
    });
    const invoiceId = optStr(params, "invoice");
    const invoice = invoiceId === undefined ? undefined : store.invoice(invoiceId, "invoice", 400);
    if (invoice !== undefined) requireDraft(invoice, "add invoice items to");
    const customer = optStr(params, "customer") ?? invoice?.customer;
    if (customer === undefined) throw StripeApiError.missing("customer");
    store.customer(customer, "customer");
    if (invoice !== undefined && invoice.customer !== customer) {
      throw StripeApiError.invalid("The invoice belongs to a different customer.", "invoice");
    }
    const quantity = optInt(params, "quantity") ?? 1;
    const pricing = optObj(params, "pricing");
    const priceId = pricing === undefined ? undefined : optStr(pricing, "price", "pricing[price]");
    const price = priceId === undefined ? undefined : store.price(priceId, "pricing[price]");
    const unitDecimal = optStr(params, "unit_amount_decimal");
    let amount = optInt(params, "amount");
    if (amount === undefined && unitDecimal !== undefined)
      amount = Math.round(Number(unitDecimal) * quantity);
    if (amount === undefined && price !== undefined)
      amount = Math.round(Number(price.unit_amount_decimal ?? 0) * quantity);
    if (amount === undefined) throw StripeApiError.missing("amount");
    const currency = (optStr(params, "currency") ?? invoice?.currency ?? price?.currency)?.toLowerCase();
    if (currency === undefined) throw StripeApiError.missing("currency");
    const period = optObj(params, "period");
    const now = store.nowSec();
    const item: InvoiceItemObject = {
      id: newId("ii"),
      object: "invoiceitem",
      amount,
      currency,
      customer,
      date: now,
      description: optStr(params, "description") ?? null,
      discountable: optBool(params, "discountable") ?? amount >= 0,
      discounts: [],
      invoice: invoice?.id ?? null,
      livemode: false,
      metadata: applyMetadata({}, params),
      parent: null,
      period: {
        start: period === undefined ? now : (optInt(period, "start", "period[start]") ?? now),
        end: period === undefined ? now : (optInt(period, "end", "period[end]") ?? now),
      },
      pricing:
        price === undefined
          ? null
          : {
              type: "price_details",
              price_details: { price: price.id, product: price.product },
              unit_amount_decimal: price.unit_amount_decimal,
            },
      proration: false,
      quantity,
      quantity_decimal: String(quantity),
    };
    store.invoiceItems.set(item.id, item);
    if (invoice !== undefined) store.addLineFromItem(invoice, item);
    store.emit("invoiceitem.created", item);
    return item;
  });

  router.add("GET", "/v1/invoiceitems", ({ params, store }) => {
    checkParams(params, { ...LIST, created: "map", customer: "s", invoice: "s", pending: "s" });
    const customer = optStr(params, "customer");
    const invoice = optStr(params, "invoice");
    const pending = optBool(params, "pending");
    const items = newestFirst(store.invoiceItems).filter(
      (i) =>
        (customer === undefined || i.customer === customer) &&
        (invoice === undefined || i.invoice === invoice) &&
        (pending === undefined || (i.invoice === null) === pending),
    );
    return paginate(items, params, "/v1/invoiceitems");
  });

  router.add("GET", "/v1/invoiceitems/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const item = store.invoiceItems.get(pathParams[0] as string);
    if (item === undefined) throw StripeApiError.noSuch("invoiceitem", pathParams[0] as string);
    return item;
  });
}

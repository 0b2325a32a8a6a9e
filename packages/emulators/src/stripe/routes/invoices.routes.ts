import { newId } from "../stripe.ids";
import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { CreditNoteLineObject, InvoiceItemObject, InvoiceObject } from "../stripe.types";
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
  optObj,
  optStr,
  type ParamShape,
  reqStr,
} from "../stripe-params";
import { lineAmount, parseDecimal } from "../stripe-pricing";

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
    // A held draft (auto_advance=false) is never finalized automatically; released, it
    // finalizes when its grace has passed (at once if that is already over).
    invoice.automatically_finalizes_at =
      auto && invoice.status === "draft"
        ? Math.max(invoice.created + store.finalizationGraceSec, store.nowSec())
        : null;
    store.reschedule();
  }
  const afa = optInt(params, "automatically_finalizes_at");
  if (afa !== undefined) {
    requireDraft(invoice, "set automatically_finalizes_at on");
    invoice.automatically_finalizes_at = afa;
    store.reschedule();
  }
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

function invoiceItem(store: StripeStore, id: string): InvoiceItemObject {
  const item = store.invoiceItems.get(id);
  if (item === undefined) throw StripeApiError.noSuch("invoiceitem", id);
  return item;
}

/** One credit note line: a share of an invoice line, or a custom amount. */
function creditNoteLine(invoice: InvoiceObject, raw: FormObject, i: number): CreditNoteLineObject {
  const p = `lines[${i}]`;
  const type = optEnum(raw, "type", ["invoice_line_item", "custom_line_item"] as const, `${p}[type]`);
  if (type === undefined) throw StripeApiError.missing(`${p}[type]`);
  const quantity = optInt(raw, "quantity", `${p}[quantity]`);
  const explicit = optInt(raw, "amount", `${p}[amount]`);
  const description = optStr(raw, "description", `${p}[description]`) ?? null;
  if (type === "invoice_line_item") {
    const lineId = reqStr(raw, "invoice_line_item", `${p}[invoice_line_item]`);
    const line = invoice.lines.data.find((l) => l.id === lineId);
    if (line === undefined)
      throw StripeApiError.noSuch("invoice line item", lineId, `${p}[invoice_line_item]`, 400);
    let amount = explicit;
    if (amount === undefined && quantity !== undefined) {
      const unit = line.pricing?.unit_amount_decimal ?? null;
      amount =
        unit !== null
          ? lineAmount(unit, quantity)
          : Math.round((line.amount * quantity) / Math.max(1, line.quantity ?? 1));
    }
    if (amount === undefined) amount = line.amount;
    if (amount > line.amount)
      throw StripeApiError.invalid(
        `The credit for ${lineId} exceeds the line's amount (${line.amount}).`,
        `${p}[amount]`,
      );
    return {
      id: newId("cnli"),
      object: "credit_note_line_item",
      amount,
      description: description ?? line.description,
      discount_amount: 0,
      invoice_line_item: lineId,
      livemode: false,
      metadata: applyMetadata({}, raw),
      quantity: quantity ?? null,
      type,
      unit_amount: null,
      unit_amount_decimal: line.pricing?.unit_amount_decimal ?? null,
    };
  }
  const q = quantity ?? 1;
  const unitDecimal = optStr(raw, "unit_amount_decimal", `${p}[unit_amount_decimal]`);
  const unit = optInt(raw, "unit_amount", `${p}[unit_amount]`);
  let amount: number;
  if (unitDecimal !== undefined) {
    parseDecimalOr400(unitDecimal, `${p}[unit_amount_decimal]`);
    amount = lineAmount(unitDecimal, q);
  } else if (unit !== undefined) amount = unit * q;
  else throw StripeApiError.missing(`${p}[unit_amount]`);
  return {
    id: newId("cnli"),
    object: "credit_note_line_item",
    amount,
    description,
    discount_amount: 0,
    invoice_line_item: null,
    livemode: false,
    metadata: applyMetadata({}, raw),
    quantity: q,
    type,
    unit_amount: unit ?? null,
    unit_amount_decimal: unitDecimal ?? null,
  };
}

function parseDecimalOr400(value: string, param: string): void {
  try {
    parseDecimal(value);
  } catch {
    throw StripeApiError.invalid(`Invalid decimal: ${value}`, param, "parameter_invalid_decimal");
  }
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
    // One-off invoices created through the API do not advance by themselves until told to.
    const invoice = store.newInvoice(customer, {
      auto_advance: false,
      automatically_finalizes_at: null,
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
    for (const i of items) store.refreshDraft(i);
    return paginate(items, params, "/v1/invoices");
  });

  router.add("GET", "/v1/invoices/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return store.current(store.invoice(pathParams[0] as string));
  });

  router.add("GET", "/v1/invoices/:id/lines", ({ params, pathParams, store }) => {
    checkParams(params, LIST);
    const invoice = store.current(store.invoice(pathParams[0] as string));
    return paginate(invoice.lines.data, params, `/v1/invoices/${invoice.id}/lines`);
  });

  router.add("POST", "/v1/invoices/:id", ({ params, pathParams, store }) => {
    checkParams(params, INVOICE_WRITE);
    const invoice = store.current(store.invoice(pathParams[0] as string));
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
    const subscriptionId = optStr(params, "subscription");
    if (subscriptionId !== undefined) store.subscription(subscriptionId, 400);
    if (invoice !== undefined && invoice.customer !== customer) {
      throw StripeApiError.invalid("The invoice belongs to a different customer.", "invoice");
    }
    const quantity = optInt(params, "quantity") ?? 1;
    const pricing = optObj(params, "pricing");
    const priceId = pricing === undefined ? undefined : optStr(pricing, "price", "pricing[price]");
    const price = priceId === undefined ? undefined : store.price(priceId, "pricing[price]");
    const unitDecimal = optStr(params, "unit_amount_decimal");
    let amount = optInt(params, "amount");
    if (amount === undefined && unitDecimal !== undefined) {
      parseDecimalOr400(unitDecimal, "unit_amount_decimal");
      amount = lineAmount(unitDecimal, quantity);
    }
    if (amount === undefined && price !== undefined)
      amount = lineAmount(price.unit_amount_decimal ?? String(price.unit_amount ?? 0), quantity);
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
      subscription: subscriptionId ?? null,
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

  router.add("POST", "/v1/invoiceitems/:id", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...COMMON,
      amount: "s",
      description: "s",
      discountable: "s",
      metadata: "map",
      period: { start: "s", end: "s" },
      quantity: "s",
      unit_amount_decimal: "s",
    });
    const item = invoiceItem(store, pathParams[0] as string);
    const invoice = item.invoice === null ? undefined : store.invoice(item.invoice);
    if (invoice !== undefined) requireDraft(invoice, "update invoice items on");
    const quantity = optInt(params, "quantity");
    if (quantity !== undefined) {
      item.quantity = quantity;
      item.quantity_decimal = String(quantity);
    }
    const amount = optInt(params, "amount");
    const unitDecimal = optStr(params, "unit_amount_decimal");
    if (amount !== undefined) item.amount = amount;
    else if (unitDecimal !== undefined) item.amount = lineAmount(unitDecimal, item.quantity);
    const description = optStr(params, "description");
    if (description !== undefined) item.description = description === "" ? null : description;
    const discountable = optBool(params, "discountable");
    if (discountable !== undefined) item.discountable = discountable;
    item.metadata = applyMetadata(item.metadata, params);
    if (invoice !== undefined) {
      const line = invoice.lines.data.find((l) => l.parent.invoice_item_details?.invoice_item === item.id);
      if (line !== undefined) {
        line.amount = item.amount;
        line.subtotal = item.amount;
        line.quantity = item.quantity;
        line.description = item.description;
        line.discountable = item.discountable;
        line.metadata = item.metadata;
      }
      store.recompute(invoice);
    }
    store.emit("invoiceitem.updated", item);
    return item;
  });

  router.add("DELETE", "/v1/invoiceitems/:id", ({ pathParams, store }) => {
    const item = invoiceItem(store, pathParams[0] as string);
    const invoice = item.invoice === null ? undefined : store.invoice(item.invoice);
    if (invoice !== undefined) {
      requireDraft(invoice, "delete invoice items from");
      invoice.lines.data = invoice.lines.data.filter(
        (l) => l.parent.invoice_item_details?.invoice_item !== item.id,
      );
      store.recompute(invoice);
    }
    store.invoiceItems.delete(item.id);
    store.emit("invoiceitem.deleted", item);
    return { id: item.id, object: "invoiceitem", deleted: true };
  });

  router.add("POST", "/v1/credit_notes", ({ params, store }) => {
    checkParams(params, {
      ...COMMON,
      amount: "s",
      credit_amount: "s",
      effective_at: "s",
      email_type: "s",
      invoice: "s",
      lines: [
        {
          amount: "s",
          description: "s",
          invoice_line_item: "s",
          metadata: "map",
          quantity: "s",
          tax_amounts: "map",
          tax_rates: ["s"],
          type: "s",
          unit_amount: "s",
          unit_amount_decimal: "s",
        },
      ],
      memo: "s",
      metadata: "map",
      out_of_band_amount: "s",
      reason: "s",
      refund_amount: "s",
    });
    const invoice = store.current(store.invoice(reqStr(params, "invoice"), "invoice", 400));
    const reason =
      optEnum(params, "reason", [
        "duplicate",
        "fraudulent",
        "order_change",
        "product_unsatisfactory",
      ] as const) ?? null;
    const lines = (optArr(params, "lines") ?? []).map((raw, i) =>
      creditNoteLine(invoice, asObj(raw, `lines[${i}]`), i),
    );
    const amountParam = optInt(params, "amount");
    const fromLines = lines.reduce((s, l) => s + l.amount, 0);
    if (lines.length === 0 && amountParam === undefined) throw StripeApiError.missing("amount");
    if (lines.length > 0 && amountParam !== undefined && amountParam !== fromLines) {
      throw StripeApiError.invalid(
        `The amount (${amountParam}) must equal the sum of the lines (${fromLines}).`,
        "amount",
      );
    }
    const amount = lines.length > 0 ? fromLines : (amountParam as number);
    if (lines.length === 0) {
      lines.push({
        id: newId("cnli"),
        object: "credit_note_line_item",
        amount,
        description: optStr(params, "memo") ?? null,
        discount_amount: 0,
        invoice_line_item: null,
        livemode: false,
        metadata: {},
        quantity: 1,
        type: "custom_line_item",
        unit_amount: amount,
        unit_amount_decimal: String(amount),
      });
    }
    return store.issueCreditNote(invoice, amount, {
      memo: optStr(params, "memo") ?? null,
      metadata: applyMetadata({}, params),
      reason,
      lines: { object: "list", data: lines, has_more: false, url: "/v1/credit_notes/lines" },
    });
  });

  router.add("GET", "/v1/credit_notes", ({ params, store }) => {
    checkParams(params, { ...LIST, created: "map", customer: "s", invoice: "s" });
    const customer = optStr(params, "customer");
    const invoice = optStr(params, "invoice");
    const items = newestFirst(store.creditNotes).filter(
      (n) =>
        (customer === undefined || n.customer === customer) &&
        (invoice === undefined || n.invoice === invoice),
    );
    return paginate(items, params, "/v1/credit_notes");
  });

  router.add("GET", "/v1/credit_notes/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const note = store.creditNotes.get(pathParams[0] as string);
    if (note === undefined) throw StripeApiError.noSuch("credit_note", pathParams[0] as string);
    return note;
  });

  router.add("GET", "/v1/invoiceitems/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return invoiceItem(store, pathParams[0] as string);
  });
}

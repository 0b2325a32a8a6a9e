import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { InvoiceItemObject } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import { applyMetadata, COMMON, checkParams, optBool, optInt, optStr } from "../stripe-params";

function itemOf(store: StripeStore, id: string): InvoiceItemObject {
  const item = store.invoiceItems.get(id);
  if (item === undefined) throw StripeApiError.noSuch("invoiceitem", id);
  return item;
}

/** An item on a finalized invoice cannot change (Stripe: only pending items and drafts). */
function requireEditable(store: StripeStore, item: InvoiceItemObject): void {
  if (item.invoice === null) return;
  const invoice = store.invoices.get(item.invoice);
  if (invoice !== undefined && invoice.status !== "draft") {
    throw StripeApiError.invalid(
      `Invoice item ${item.id} belongs to invoice ${invoice.id}, which is ${invoice.status}: it can no longer be changed.`,
      undefined,
      "invoice_not_editable",
    );
  }
}

/** `POST /v1/invoiceitems/:id` (amount, description, metadata, discountable) and `DELETE`. */
export function registerInvoiceItemEditRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/invoiceitems/:id", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...COMMON,
      amount: "s",
      description: "s",
      discountable: "s",
      metadata: "map",
      quantity: "s",
      unit_amount_decimal: "s",
    });
    const item = itemOf(store, pathParams[0] as string);
    requireEditable(store, item);
    const amount = optInt(params, "amount");
    if (amount !== undefined) item.amount = amount;
    const description = optStr(params, "description");
    if (description !== undefined) item.description = description === "" ? null : description;
    const discountable = optBool(params, "discountable");
    if (discountable !== undefined) item.discountable = discountable;
    item.metadata = applyMetadata(item.metadata, params);
    const invoice = item.invoice === null ? undefined : store.invoices.get(item.invoice);
    if (invoice !== undefined) {
      for (const line of invoice.lines.data) {
        if (line.parent?.invoice_item_details?.invoice_item !== item.id) continue;
        line.amount = item.amount;
        line.subtotal = item.amount;
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
    const item = itemOf(store, pathParams[0] as string);
    requireEditable(store, item);
    store.invoiceItems.delete(item.id);
    const invoice = item.invoice === null ? undefined : store.invoices.get(item.invoice);
    if (invoice !== undefined) {
      invoice.lines.data = invoice.lines.data.filter(
        (line) => line.parent?.invoice_item_details?.invoice_item !== item.id,
      );
      store.recompute(invoice);
    }
    store.emit("invoiceitem.deleted", item);
    return { id: item.id, object: "invoiceitem", deleted: true };
  });
}

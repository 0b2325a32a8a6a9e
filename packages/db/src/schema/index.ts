export * from "./alerts.schema";
export * from "./customers.schema";
export * from "./meter-events.schema";
export * from "./month-closes.schema";
export * from "./stripe-audit-log.schema";
export * from "./sync.schema";
export * from "./usage-items.schema";
export * from "./webhook-events.schema";

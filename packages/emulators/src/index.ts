export * from "./langfuse/index";
export * from "./stripe/index";

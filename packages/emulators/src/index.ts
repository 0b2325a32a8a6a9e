export * from "./auth0/index";
export {
  DEMO_CUSTOMERS,
  type DemoEmulatorOptions,
  type DemoEmulators,
  startDemoEmulators,
} from "./demo/demo-emulators";
export * from "./langfuse/index";
export * from "./openai/index";
export * from "./stripe/index";

/** Resolves on the first SIGTERM/SIGINT; a second one forces the exit while draining. */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      const force = () => process.exit(130);
      process.once("SIGTERM", force);
      process.once("SIGINT", force);
      done(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

export interface ShutdownOptions {
  /** Force exit after this long if closing hangs (default 15 s, under most orchestrators' grace). */
  timeoutMs?: number;
  onError?: (error: unknown) => void;
  exit?: (code: number) => void;
}

/**
 * On SIGTERM/SIGINT: close everything, then exit 0. A second signal, or a close that hangs
 * past the timeout, exits 1 at once so an operator is never stuck.
 */
export function exitOnSignals(close: () => Promise<void>, options: ShutdownOptions = {}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;
  const onSignal = () => {
    if (shuttingDown) return exit(1);
    shuttingDown = true;
    const timer = setTimeout(() => exit(1), options.timeoutMs ?? 15_000);
    timer.unref();
    close().then(
      () => exit(0),
      (error: unknown) => {
        options.onError?.(error);
        exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

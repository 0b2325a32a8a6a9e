import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const replySchema = z.object({
  id: z.number(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
const requestSchema = z.object({ id: z.number(), cmd: z.string(), args: z.unknown() });

export class ChildHostError extends Error {
  override readonly name = "ChildHostError";
}

export interface SpawnOptions {
  /** Extra V8 flags, e.g. `--max-old-space-size=8192` or `--cpu-prof`. */
  nodeFlags?: string[];
  cwd?: string;
  /** The entry is bundled JavaScript (see @sparks/bundler): run it with plain node, no tsx. */
  bundled?: boolean;
}

/**
 * A TypeScript entry run in its own Node process (through tsx), spoken to over the IPC channel.
 * Child processes keep the emulators' and the worker's CPU and memory apart from the
 * orchestrator's, so each figure measures what it names.
 */
export class ChildHost {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly exited: Promise<number | null>;
  /** Resolves when the child says it is ready (after its start-up work), rejects if it dies first. */
  readonly ready: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    let onReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      child.once("exit", (code) => reject(new ChildHostError(`child exited (${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined);
    child.on("message", (raw) => {
      if (typeof raw === "object" && raw !== null && "ready" in raw) {
        onReady();
        return;
      }
      const parsed = replySchema.safeParse(raw);
      if (!parsed.success) return;
      const entry = this.waiting.get(parsed.data.id);
      if (!entry) return;
      this.waiting.delete(parsed.data.id);
      if (parsed.data.ok) entry.resolve(parsed.data.result);
      else entry.reject(new ChildHostError(parsed.data.error ?? "child failed"));
    });
    this.exited = new Promise((resolve) => {
      child.on("exit", (code) => {
        for (const entry of this.waiting.values()) entry.reject(new ChildHostError(`child exited (${code})`));
        this.waiting.clear();
        resolve(code);
      });
    });
  }

  static spawn(entry: URL, arg: unknown, options: SpawnOptions = {}): ChildHost {
    const child = fork(fileURLToPath(entry), [JSON.stringify(arg)], {
      execArgv: [...(options.bundled ? [] : ["--import", "tsx"]), ...(options.nodeFlags ?? [])],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    return new ChildHost(child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new ChildHostError("child has no pid");
    return this.child.pid;
  }

  request<T>(cmd: string, args: unknown = null): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: (v) => resolve(v as T), reject });
      this.child.send({ id, cmd, args });
    });
  }

  /**
   * Ends the child at once, without letting it finish its work, but through `process.exit` so
   * V8 still writes a `--cpu-prof` profile (SIGKILL would lose it).
   */
  async abort(graceMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      this.child.send({ id: 0, cmd: "exit", args: null });
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the child to close cleanly (`stop`), then waits for it to exit; kills it after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      await this.request("stop").catch(() => undefined);
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export type Handler = (args: unknown) => unknown | Promise<unknown>;

/** Child side: answers the parent's requests; `stop` runs `onStop` and exits the process. */
export function serveIpc(handlers: Record<string, Handler>, onStop: () => Promise<void>): void {
  process.on("message", (raw) => {
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) return;
    const { id, cmd, args } = parsed.data;
    void (async () => {
      try {
        if (cmd === "exit") {
          // Ends at once without draining (a profile from --cpu-prof is still written at exit).
          process.exit(0);
        }
        if (cmd === "stop") {
          await onStop();
          process.send?.({ id, ok: true, result: null }, () => process.exit(0));
          return;
        }
        const handler = handlers[cmd];
        if (!handler) throw new Error(`unknown command ${cmd}`);
        const result = await handler(args);
        process.send?.({ id, ok: true, result });
      } catch (error) {
        process.send?.({
          id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  // The parent dying must not leave an orphan holding ports and memory.
  process.on("disconnect", () => {
    void onStop().finally(() => process.exit(0));
  });
}

/** The single JSON argument a child was started with. */
export function childArgument(): unknown {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("child started without its JSON argument");
  return JSON.parse(raw) as unknown;
}

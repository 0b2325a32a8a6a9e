import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WorkerSpec } from "./worker-spec";

const ENTRY = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

export class WorkerStartError extends Error {
  override readonly name = "WorkerStartError";
}

/** Worker processes of the run: started, SIGKILLed at will, their output kept for the secrets check. */
export class WorkerFleet {
  private readonly children = new Set<ChildProcess>();
  private readonly output: string[] = [];
  private readonly killedByUs = new WeakSet<ChildProcess>();
  kills = 0;
  /** Exits we did not cause: a worker crashed. */
  crashes = 0;
  /** What each crash looked like: exit code or signal, and the worker's last output lines. */
  readonly crashReports: string[] = [];

  /**
   * `entry` is the worker's script (default worker-process.ts) and `args` its argv[2]: the
   * `--redis-wipe` phase starts the production composition (scheduled-worker.process.ts) instead.
   */
  constructor(
    private readonly spec: WorkerSpec | Record<string, unknown>,
    private readonly entry: string = ENTRY,
  ) {}

  get size(): number {
    return this.children.size;
  }

  /** Everything the workers wrote (JSON log lines). */
  logs(): string {
    return this.output.join("");
  }

  async start(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", this.entry, JSON.stringify(this.spec)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.add(child);
    const own: string[] = [];
    child.once("exit", (code, signal) => {
      this.children.delete(child);
      if (this.killedByUs.has(child)) return;
      this.crashes++;
      const tail = own.join("").split("\n").filter(Boolean).slice(-15).join("\n    ");
      this.crashReports.push(
        `worker ${child.pid} exited (code ${code}, signal ${signal}); last output:\n    ${tail}`,
      );
    });
    const onData = (d: Buffer) => {
      this.output.push(d.toString());
      own.push(d.toString());
      if (own.length > 200) own.splice(0, own.length - 100);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    await new Promise<void>((resolve, reject) => {
      const ready = (d: Buffer) => {
        if (d.toString().includes("ready\n")) {
          child.stdout?.off("data", ready);
          child.off("exit", early);
          resolve();
        }
      };
      const early = (code: number | null) => reject(new WorkerStartError(`worker exited early (${code})`));
      child.stdout?.on("data", ready);
      child.once("exit", early);
    });
    return child;
  }

  /** SIGKILLs one running worker (the oldest) and starts a replacement. */
  async killOneAndReplace(): Promise<void> {
    const [victim] = this.children;
    if (victim) {
      await new Promise<void>((resolve) => {
        victim.once("exit", () => resolve());
        this.killedByUs.add(victim);
        victim.kill("SIGKILL");
      });
      this.kills++;
    }
    await this.start();
  }

  async stopAll(): Promise<void> {
    for (const child of [...this.children]) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        this.killedByUs.add(child);
        child.kill("SIGKILL");
      });
    }
  }
}

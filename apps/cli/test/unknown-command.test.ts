import { describe, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

describe("an unknown command (as a process)", () => {
  it("exits 2 with the nearest command suggested, even with --help after it", async () => {
    const r = await runSparks(["reconcle", "--help"], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe(
      "sparks: unknown command 'reconcle' (did you mean `sparks reconcile`?); `sparks --help` lists the commands",
    );
  });

  it("names no command when nothing is close", async () => {
    const r = await runSparks(["nonsense"], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'nonsense'");
    expect(r.stderr).not.toContain("did you mean");
  });

  it("still prints the root help for --help alone, exit 0", async () => {
    const r = await runSparks(["--help"], cleanEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: sparks");
  });
});

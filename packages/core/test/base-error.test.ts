import { describe, expect, it } from "vitest";
import { BaseError, isPermanentError } from "../src/base.error";

class AdapterError extends BaseError<{ id: string }> {
  override readonly name = "AdapterError";
}

describe("BaseError", () => {
  it("carries retryable, code, context and cause, and stays an Error", () => {
    const cause = new Error("socket hang up");
    const e = new AdapterError("read failed", {
      retryable: true,
      code: "adapter_down",
      context: { id: "x" },
      cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(BaseError);
    expect(e).toMatchObject({
      name: "AdapterError",
      message: "read failed",
      retryable: true,
      code: "adapter_down",
    });
    expect(e.context).toEqual({ id: "x" });
    expect(e.cause).toBe(cause);
  });

  it("is permanent only when typed and not retryable; untyped errors may be retried", () => {
    expect(isPermanentError(new AdapterError("bad key", { retryable: false, code: "bad_key" }))).toBe(true);
    expect(isPermanentError(new AdapterError("busy", { retryable: true, code: "busy" }))).toBe(false);
    expect(isPermanentError(new Error("unknown"))).toBe(false);
    expect(isPermanentError("nope")).toBe(false);
  });
});

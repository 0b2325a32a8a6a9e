import { describe, expect, it } from "vitest";
import { createLogger } from "../src/index";

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (l: string) => void lines.push(l) } };
}

describe("createLogger", () => {
  it("scrubs secret values and bearer tokens wherever they appear", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ secrets: ["sk_test_supersecret", "whsec_abcdef"], destination });
    logger.info({ note: "key is sk_test_supersecret" }, "using whsec_abcdef now");
    logger.info({ req: { headers: { authorization: "Bearer eyJhbGciOi.abc.def" } } }, "request");
    logger.warn("header was Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig");
    const all = lines.join("");
    expect(all).not.toContain("sk_test_supersecret");
    expect(all).not.toContain("whsec_abcdef");
    expect(all).not.toContain("eyJhbGciOi");
    expect(all).toContain("[redacted]");
    expect(lines).toHaveLength(3);
  });

  it("keeps ordinary fields intact", () => {
    const { lines, destination } = capture();
    createLogger({ destination }).info({ customer: "cus_1" }, "hello");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ customer: "cus_1", msg: "hello" });
  });
});

/** USD per token of the models the generator uses; mirrors Langfuse's built-in model table. */
export interface ModelPrice {
  modelId: string;
  input: number;
  output: number;
}

const PRICES: Record<string, ModelPrice> = {
  "gpt-4o-mini": { modelId: "clx-gpt-4o-mini", input: 0.00000015, output: 0.0000006 },
  "gpt-4o": { modelId: "clx-gpt-4o", input: 0.0000025, output: 0.00001 },
  "claude-3-5-haiku-20241022": { modelId: "clx-claude-3-5-haiku", input: 0.0000008, output: 0.000004 },
  "text-embedding-3-small": { modelId: "clx-text-embedding-3-small", input: 0.00000002, output: 0 },
};

export function modelPrice(model: string | null | undefined): ModelPrice | undefined {
  return model ? PRICES[model] : undefined;
}

/** Langfuse serializes prices as decimal strings; avoid exponent notation like "1.5e-7". */
export function priceString(value: number): string {
  return value.toFixed(12).replace(/0+$/, "").replace(/\.$/, ".0");
}

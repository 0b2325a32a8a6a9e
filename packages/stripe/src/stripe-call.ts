import { StripeCallError } from "./stripe-call.error";
import { classifyStripeError } from "./stripe-error.classifier";

/**
 * Runs one Stripe SDK call and turns any failure into a StripeCallError that says whether to
 * retry (see classifyStripeError). The one wrapper every service of this package uses.
 */
export async function stripeCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const classified = classifyStripeError(e, operation);
    if (classified.kind === "error") throw classified.error;
    throw new StripeCallError(
      `${operation}: unexpected duplicate answer`,
      { retryable: false },
      { cause: e },
    );
  }
}

import type { StripeStore } from "./stripe.store";
import type { FormObject } from "./stripe-form.parser";

/** What a handler sees of the request. */
export interface RequestContext {
  method: string;
  path: string;
  /** Form or query params (v1), or the JSON body (v2), as nested objects. */
  params: FormObject;
  /** Values of the `:name` segments, in order. */
  pathParams: string[];
  store: StripeStore;
  env: HandlerEnv;
}

/** Emulator settings and shared state that handlers need beyond the store. */
export interface HandlerEnv {
  latencyMs: number;
  sleep(ms: number): Promise<void>;
  /** Customer+meter pairs with a meter-event call in progress. */
  meterLocks: Set<string>;
  /** v2 meter event session tokens and when they expire (emulator ms). */
  sessions: Map<string, number>;
}

export type Handler = (ctx: RequestContext) => unknown;

interface ParamRoute {
  segments: string[];
  handler: Handler;
}

/**
 * A small method+path router. Static paths (the meter-event path among them) resolve with one
 * Map lookup; paths with `:id` segments are matched segment by segment.
 */
export class StripeRouter {
  private readonly staticRoutes = new Map<string, Handler>();
  private readonly paramRoutes = new Map<string, ParamRoute[]>();

  add(method: string, pattern: string, handler: Handler): void {
    if (!pattern.includes(":")) {
      this.staticRoutes.set(`${method} ${pattern}`, handler);
      return;
    }
    const list = this.paramRoutes.get(method) ?? [];
    list.push({ segments: pattern.split("/"), handler });
    this.paramRoutes.set(method, list);
  }

  match(method: string, path: string): { handler: Handler; pathParams: string[] } | null {
    const h = this.staticRoutes.get(`${method} ${path}`);
    if (h !== undefined) return { handler: h, pathParams: [] };
    const parts = path.split("/");
    for (const route of this.paramRoutes.get(method) ?? []) {
      if (route.segments.length !== parts.length) continue;
      const values: string[] = [];
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(":")) {
          if (part === "") {
            ok = false;
            break;
          }
          values.push(decodeURIComponent(part));
        } else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (ok) return { handler: route.handler, pathParams: values };
    }
    return null;
  }
}

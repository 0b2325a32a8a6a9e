/** What the emulator child is started with. */
export interface EmulatorHostSpec {
  stripe: { latencyMs: number; rateLimitPerSecond: number };
  /** `v1Only`: an older self-hosted Langfuse without the v2 observations route. */
  langfuse: { v1Only?: boolean };
  traffic: TrafficSpec;
}

export interface TrafficSpec {
  /** Target number of observations (traces are sized from a sample of the same traffic). */
  observations: number;
  customers: number;
  from: string;
  to: string;
  seed: number;
  badShare: number;
}

export interface EmulatorHostInfo {
  langfuse: { url: string; publicKey: string; secretKey: string };
  stripe: { url: string; host: string; port: number; secretKey: string };
  traffic: { traces: number; observations: number; seconds: number };
}

export interface LangfuseStatsView {
  requests: number;
  byRoute: Record<string, Record<number, number>>;
  observationsServed: number;
}

export interface MeterTotalView {
  customer: string;
  eventName: string;
  value: number;
}

export interface MeterCallsView {
  /** Emulator-clock ms of every accepted (200) meter event call, ascending. */
  acceptedAt: number[];
  rateLimited: number;
  otherErrors: number;
}

export interface StreamEventsView {
  /** Emulator-clock ms at which each event arriving through the v2 stream was accepted, ascending. */
  receivedAt: number[];
  calls: number;
  rateLimited: number;
}

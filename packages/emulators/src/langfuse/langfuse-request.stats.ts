/** Counts requests per route and status, plus observations served, for test assertions. */
export class LangfuseRequestStats {
  private readonly counts = new Map<string, Map<number, number>>();
  private served = 0;

  record(route: string, status: number): void {
    let byStatus = this.counts.get(route);
    if (!byStatus) {
      byStatus = new Map();
      this.counts.set(route, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  recordObservationsServed(count: number): void {
    this.served += count;
  }

  /** Observations returned by all list and detail routes together. */
  get observationsServed(): number {
    return this.served;
  }

  /** Requests matching the optional route key (e.g. `GET /api/public/v2/observations`) and status. */
  count(filter: { route?: string; status?: number } = {}): number {
    let total = 0;
    for (const [route, byStatus] of this.counts) {
      if (filter.route !== undefined && filter.route !== route) continue;
      for (const [status, n] of byStatus)
        if (filter.status === undefined || filter.status === status) total += n;
    }
    return total;
  }

  /** `{ [route]: { [status]: count } }` */
  snapshot(): Record<string, Record<number, number>> {
    const out: Record<string, Record<number, number>> = {};
    for (const [route, byStatus] of this.counts) out[route] = Object.fromEntries(byStatus);
    return out;
  }

  reset(): void {
    this.counts.clear();
    this.served = 0;
  }
}

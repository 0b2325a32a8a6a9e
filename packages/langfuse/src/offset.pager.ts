interface OffsetPage<T> {
  data: T[];
  meta: { totalPages: number };
}

/**
 * page/limit pagination over a list sorted newest first. Items ingested late with a time inside
 * the window shift later pages: an item already seen may reappear at the top of the next page.
 * Dropping ids seen on the previous page removes exactly those repeats while memory stays one
 * page (anything that slips past is idempotent downstream anyway).
 */
export async function* readOffsetPages<T>(
  fetchPage: (page: number) => Promise<OffsetPage<T>>,
  idOf: (item: T) => string,
  limit: number,
): AsyncGenerator<T[]> {
  let previous = new Set<string>();
  for (let page = 1; ; page++) {
    const result = await fetchPage(page);
    const fresh = result.data.filter((item) => !previous.has(idOf(item)));
    previous = new Set(result.data.map(idOf));
    if (fresh.length > 0) yield fresh;
    // A short page or the announced last page ends the list without one more (empty) request.
    if (result.data.length < limit || page >= result.meta.totalPages) return;
  }
}

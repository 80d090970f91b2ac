import { useState } from 'preact/hooks';

export interface CursorPages {
  /** The cursor of the page shown (`undefined`: the first page). */
  cursor: string | undefined;
  /** Back to the first page (after a filter change). */
  reset: () => void;
  hasNewer: boolean;
  newer: () => void;
  older: (next: string) => void;
}

/** Cursor paging of a newest-first list: the API gives the next cursor, we keep the way back. */
export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    reset: () => setCursors([undefined]),
    hasNewer: cursors.length > 1,
    newer: () => setCursors(cursors.slice(0, -1)),
    older: (next) => setCursors([...cursors, next]),
  };
}

/** Newer / Older buttons; `next` is the answer's `next_cursor`. */
export function Pager({ pages, next }: { pages: CursorPages; next: string | null | undefined }) {
  return (
    <div class="row">
      <button disabled={!pages.hasNewer} onClick={pages.newer}>
        ← Newer
      </button>
      <button disabled={!next} onClick={() => next && pages.older(next)}>
        Older →
      </button>
    </div>
  );
}

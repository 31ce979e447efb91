import type { ApiProblem } from '../api.js';

export interface QueryErrorProps {
  readonly id: string;
  readonly q: string;
  readonly problem: ApiProblem;
  /** Rows of the last valid search are still on screen. */
  readonly keptResults: boolean;
}

/** The server's message about the query, with the offending term marked in the text. */
export function QueryError({ id, q, problem, keptResults }: QueryErrorProps) {
  const position = problem.position;
  const located = position !== null && position >= 0 && position <= q.length;
  let end = position ?? 0;
  while (located && end < q.length && !/\s/.test(q.charAt(end))) end++;
  return (
    <div className="query-error" id={id} role="alert">
      <p className="query-error__detail">{problem.message}</p>
      {located && (
        <pre className="query-error__text" aria-hidden="true">
          {q.slice(0, position)}
          <mark>{q.slice(position, end) || ' '}</mark>
          {q.slice(end)}
        </pre>
      )}
      {keptResults && (
        <p className="query-error__note">
          The table below still shows the results of the last valid search.
        </p>
      )}
    </div>
  );
}

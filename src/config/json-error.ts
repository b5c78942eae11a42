/**
 * JSON.parse's message quotes the text it failed on ("Unexpected token 's',
 * "{"token": s3cret..." is not valid JSON"). Config values carry secrets, so
 * only the reason and position may reach a log line.
 */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const quoted = message.indexOf(', "');
  return quoted !== -1 && message.endsWith('is not valid JSON') ? message.slice(0, quoted) : message;
}

/**
 * JSON.parse's message quotes the text it failed on ("Unexpected token 's',
 * "{"token": s3cret..." is not valid JSON"), even the one bad character.
 * Config values carry secrets, so only the position may reach a log line or
 * a terminal.
 */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /position (\d+)/.exec(message);
  if (position) return `syntax error at position ${position[1]}`;
  if (/end of (JSON )?input|Unterminated/i.test(message)) return 'unexpected end of input';
  return 'syntax error';
}

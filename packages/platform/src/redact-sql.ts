/**
 * Replaces every literal in a SQL statement with `?`. MikroORM inlines parameter values
 * into the statement text it sends, so without this a span's `db.query.text` would carry
 * whatever a row holds — a name, a phone number, a story.
 */
export function redactSqlLiterals(sql: string): string {
  return sql
    .replace(/\b[Ee]'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, '?')
    .replace(/(?<![\w$."])-?\d+(?:\.\d+)?(?![\w"])/g, '?');
}
